"""Migrations build the schema the models describe, from an empty database, both ways."""


import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.accounts.models import User
from app.boards.models import Board
from app.extensions import db, in_models
from tests.conftest import make_app, throwaway_postgres


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def empty_database_url(request, tmp_path):
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with throwaway_postgres("swarmboard_migrate") as url:
        yield url


@pytest.fixture
def empty_app(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_drift() -> list:
    """What autogenerate would put in a new migration: empty when models and migrations agree."""
    migrate_options = dict(
        compare_type=True,
        compare_server_default=True,
        render_as_batch=True,
        include_name=in_models,
    )
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=migrate_options)
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    with db.engine.connect() as connection:
        return {n for n in inspect(connection).get_table_names() if in_models(n, "table", {})}


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_from_empty_to_head_matches_the_models(empty_app):
    assert table_names() == set()
    flask_migrate.upgrade()
    assert table_names() == {t.name for t in db.metadata.sorted_tables} | {"alembic_version"}
    assert current_revision() is not None
    assert schema_drift() == []


def test_downgrade_to_base_then_upgrade_again(empty_app):
    flask_migrate.upgrade()
    head = current_revision()

    flask_migrate.downgrade(revision="base")
    assert table_names() <= {"alembic_version"}, "downgrade left tables behind"
    assert current_revision() is None

    flask_migrate.upgrade()
    assert current_revision() == head
    assert schema_drift() == []


def test_migrated_schema_accepts_the_service_layer(empty_app):
    """A smoke run through the services on a freshly migrated database (defaults, JSON, FKs)."""
    from tests import factories as make

    flask_migrate.upgrade()
    ann = make.user("ann")
    board = make.board(ann, "restoration", key="MIG")
    card = make.card(board, ann, "Migrated", tags="db")
    assert (card.key, card.tags, card.version) == ("MIG-1", ["db"], 1)


def test_drift_check_notices_a_schema_that_differs_from_the_models(empty_app):
    """Guards the two drift assertions above: they must be able to fail."""
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_events_card_at"))
    drift = schema_drift()
    assert [(op[0], op[1].name) for op in drift] == [("add_index", "ix_events_card_at")]


def test_upgrading_a_database_that_holds_boards_keeps_them(empty_app):
    """Each migration must run on a database in use, not only on an empty one (SQLite cannot
    rebuild a table that others point at while it holds rows)."""
    from tests import factories as make

    flask_migrate.upgrade(revision="0001")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, username, display_name, password_hash, is_admin, created_at)"
            " VALUES (1, 'ann', 'Ann', 'x', false, '2026-11-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO boards (id, key, name, description, timezone, last_seq, "
            "next_card_number, created_at) VALUES (1, 'OLD', 'Old', '', 'UTC', 0, 2, "
            "'2026-11-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO board_members (board_id, user_id, role) VALUES (1, 1, 'owner')"))
        connection.execute(text(
            "INSERT INTO board_columns (id, board_id, name, kind, position, wip_policy, "
            "policy_text, done_checklist, sort_policy) VALUES (1, 1, 'Doing', 'active', 0, "
            "'soft', '', '[]', 'manual')"))
        connection.execute(text(
            "INSERT INTO lanes (id, board_id, name, class_of_service, position, wip_policy) "
            "VALUES (1, 1, 'Standard', 'standard', 0, 'hard')"))
    flask_migrate.upgrade()
    assert schema_drift() == []
    db.session.expire_all()
    board = db.session.get(Board, 1)
    card = make.card(board, db.session.get(User, 1), "After the upgrade")
    assert (board.key, card.key) == ("OLD", "OLD-2")
