"""Command-line entry points: thin wrappers over the services, each one transaction."""

import csv
import io
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

    @app.cli.command("import-history")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--board", "board_key", default=None, help="Import into this existing board.")
    @click.option("--new-board", "new_key", default=None,
                  help="Create a board with this key, its columns laid out from the header.")
    @click.option("--name", "board_name", default=None, help="The new board's name.")
    @click.option("--timezone", default="UTC", show_default=True,
                  help="The new board's time zone (dates without a time are its midnight).")
    @click.option("--start-stage", default=None,
                  help="Where work counts as started (default: the second stage).")
    @click.option("--done-stage", default=None, help="Where work is done (default: the last).")
    @click.option("--stages", "stage_count", type=int, default=None,
                  help="How many columns after Name are stages (default: up to the first of "
                       "Type, Lane, Class of service, Tags, Blocked, Archived, Moves).")
    @click.option("--queue-stage", "queue_stages", multiple=True,
                  help="New board: a stage where work waits (a queue column); repeatable. "
                       "Default: guessed from names like 'Ready to…', 'Waiting for…'.")
    @click.option("--as", "username", default=None,
                  help="Who imports (an owner of the board; default: its first owner).")
    def import_history_command(file, board_key, new_key, board_name, timezone, start_stage,
                               done_stage, stage_count, queue_stages, username):
        """Import an ActionableAgile CSV history (ID,Name,<stages>…) as cards with events.

        Each stage cell is the ISO date or date-time the item entered that stage (dates are
        midnight on the board's clock). All or nothing: any bad row imports nothing, and every
        problem is listed with its line number."""
        import os

        from app.boards.access import board_role
        from app.boards.models import Board, BoardMember
        from app.history.csvformat import ImportRejected, check_size
        from app.history.services import import_history

        if (board_key is None) == (new_key is None):
            _fail("Give either --board KEY (an existing board) or --new-board KEY --name NAME.")
        try:
            board = None
            if board_key is not None:
                board = db.session.scalar(select(Board).where(Board.key == board_key.upper()))
                if board is None:
                    _fail(f"There is no board {board_key}.")
            if username:
                actor = user_by_username(username)
            elif board is not None:
                actor = db.session.scalar(
                    select(User).join(BoardMember, BoardMember.user_id == User.id)
                    .where(BoardMember.board_id == board.id, BoardMember.role == "owner")
                    .order_by(User.id).limit(1)
                )
            else:
                _fail("Say who creates the new board with --as USER.")
            if board is not None and board_role(board, actor) != "owner":
                _fail(f"{actor.username} is not an owner of {board.key}; name one with --as.")
            try:
                check_size(os.path.getsize(file))
                with open(file, "rb") as stream:
                    data = stream.read()
            except OSError as error:
                _fail(f"Cannot read {file}: {error.strerror}.")
            result = import_history(
                board, data, actor, start_stage=start_stage, done_stage=done_stage,
                stage_count=stage_count, queue_stages=list(queue_stages), board_key=new_key,
                board_name=board_name, timezone=timezone,
            )
            db.session.commit()
        except ImportRejected as error:
            db.session.rollback()
            click.echo(f"Error: {error.message}", err=True)
            for line, problem in error.problems:
                click.echo(f"  {'line ' + str(line) if line else 'file'}: {problem}", err=True)
            sys.exit(1)
        except DomainError as error:
            _fail(error.message)
        board = result.board
        click.echo(
            f"Imported {result.cards} item(s) into {board.key} ({board.name}): "
            f"{result.events} events, {result.overrides} WIP limit(s) passed by the history "
            "(recorded as overrides)."
        )
        if result.ignored_columns:
            click.echo(f"Ignored columns: {', '.join(result.ignored_columns)}.")

    @app.cli.command("export-history")
    @click.option("--board", "board_key", required=True, help="The board to export.")
    @click.option("-o", "--output", default=None, help="Write to this file (default: stdout).")
    def export_history_command(board_key, output):
        """Export a board's history as an ActionableAgile CSV (importable again)."""
        from app.boards.models import Board
        from app.history.services import export_history

        board = db.session.scalar(select(Board).where(Board.key == board_key.upper()))
        if board is None:
            _fail(f"There is no board {board_key}.")
        text = export_history(board)
        if output is None:
            click.echo(text, nl=False)
            return
        try:
            with open(output, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
        except OSError as error:
            _fail(f"Cannot write {output}: {error.strerror}.")
        cards = sum(1 for _row in csv.reader(io.StringIO(text))) - 1
        click.echo(f"Wrote the history of {cards} card(s) of {board.key} to {output}.")

    @app.cli.command("deliver")
    @click.option("--once", is_flag=True, help="Deliver what is due now, then stop.")
    @click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.05, 60),
                  help="Seconds between looks at the event log for other processes' changes.")
    def deliver_command(once, poll):
        """Deliver outgoing webhooks from the event log, send notification email and write
        reminders, as a process of its own (run the app with WEBHOOKS_DELIVER_IN_PROCESS=0
        then). Several may run at once; each webhook is delivered by one at a time. SIGTERM or
        Ctrl+C stops it between deliveries."""
        import signal

        from flask import current_app

        from app.webhooks.delivery import Deliverer

        deliverer = Deliverer(current_app._get_current_object(), poll)
        if once:
            sent = deliverer.run_round()
            click.echo(f"Delivered {sent} event(s).")
            return

        def stop(_signum, _frame):
            deliverer.stop.set()
            deliverer.wake.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        click.echo(f"Delivering webhooks as {deliverer.name}; Ctrl+C stops.")
        deliverer.run()
