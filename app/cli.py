"""Command-line entry points: thin wrappers over the services, each one transaction."""

import sys

import click
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import create_team, create_token, create_user, user_by_username
from app.errors import DomainError
from app.extensions import db


def _fail(message: str, code: int = 1):
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def register_cli(app) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--password", required=True, help="At least 8 characters.")
    @click.option("--name", "display_name", default=None, help="Display name.")
    @click.option("--admin", is_flag=True, help="Make a site administrator.")
    def create_user_command(username, password, display_name, admin):
        """Create a local account."""
        try:
            user = create_user(username, password, display_name=display_name, is_admin=admin)
            db.session.commit()
        except DomainError as error:
            _fail(error.message)
        click.echo(f"Created user {user.username}{' (admin)' if admin else ''}.")

    @app.cli.command("create-token")
    @click.argument("username")
    @click.option("--name", default="CLI token", help="A name to recognise the token by.")
    def create_token_command(username, name):
        """Create a personal API token and print only the token."""
        try:
            token = create_token(user_by_username(username), name)
            db.session.commit()
        except DomainError as error:
            _fail(error.message)
        click.echo(token)

    @app.cli.command("create-team")
    @click.argument("name")
    @click.argument("usernames", nargs=-1)
    def create_team_command(name, usernames):
        """Create a team of existing users (add it to a board from the board's settings)."""
        try:
            team = create_team(name, [user_by_username(u) for u in usernames])
            db.session.commit()
        except DomainError as error:
            _fail(error.message)
        click.echo(f"Created team {team.name} with {len(team.members)} member(s).")

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when any user exists already.")
    @click.option("--days", default=60, show_default=True, help="Days of history to simulate.")
    def seed_demo_command(if_empty, days):
        """Create the demo team, people and a Service Desk board with history."""
        from app.demo import DEMO_PASSWORD, DEMO_USER, seed_demo

        if if_empty and db.session.scalar(select(User.id).limit(1)):
            click.echo("Demo data not seeded: the database already has users.")
            return
        try:
            board = seed_demo(days=days)
            db.session.commit()
        except DomainError as error:
            _fail(error.message)
        click.echo(f"Seeded board {board.key} ({board.name}).")
        click.echo(f"Log in as {DEMO_USER} / {DEMO_PASSWORD}")
