"""Test fixtures: an app per test on SQLite (copied from one migrated file) and on a throwaway
PostgreSQL database created per run; a test client that sends the CSRF token like a page does."""

import os
import re
import shutil
import uuid
from contextlib import contextmanager

import flask_migrate
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db

IN_CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def skip_or_fail(reason: str):
    """Tests needing PostgreSQL, Redis or Chromium skip on a laptop but fail in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required)")
    pytest.skip(reason)


def make_app(database_url: str, **extra):
    return create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
        "WEBHOOKS_DELIVER_IN_PROCESS": False,  # tests that deliver start a deliverer themselves
        **extra,
    })


class CsrfClient(FlaskClient):
    """Sends the CSRF token in the X-CSRFToken header, as HTMX does on our pages."""

    csrf_token: str | None = None

    def fetch_csrf_token(self) -> str:
        page = super().open("/login", method="GET").get_data(as_text=True)
        match = CSRF_META.search(page)
        assert match, "the login page must carry the csrf-token meta tag"
        self.csrf_token = match.group(1)
        return self.csrf_token

    def open(self, *args, **kwargs):
        method = kwargs.get("method", "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if method not in ("GET", "HEAD", "OPTIONS") and "Authorization" not in headers:
            headers.setdefault("X-CSRFToken", self.csrf_token or self.fetch_csrf_token())
        return super().open(*args, headers=headers, **kwargs)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return path


@contextmanager
def throwaway_postgres(prefix: str):
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001  (any connection failure means: no PostgreSQL)
        admin.dispose()
        skip_or_fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway database for this run, migrated once, dropped at the end."""
    with throwaway_postgres("swarmboard_test") as url:
        app = make_app(url)
        with app.app_context():
            flask_migrate.upgrade()
            db.engine.dispose()
        yield url


def _truncate_all(app):
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path / "swarmboard.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def app(database_url):
    app = make_app(database_url)
    app.test_client_class = CsrfClient
    with app.app_context():
        yield app
        db.session.remove()
        if database_url.startswith("postgresql"):
            _truncate_all(app)
        db.engine.dispose()


@pytest.fixture
def simple(app):
    """A simple board SIM (To do · Doing (3, soft) · Done) owned by ann, with bob a member."""
    from tests import factories as make

    ann = make.user("ann")
    bob = make.user("bob")
    board = make.board(ann, "simple", key="SIM")
    make.member(board, bob)
    return board, ann, bob


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """Log the test client in as a username (password from the factories)."""

    def _login(username: str, password: str = "correct-horse"):
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        client.fetch_csrf_token()
        return client

    return _login


@pytest.fixture
def smtp(app):
    """A real SMTP server (tests/mailbox.py) the app sends through; its messages, as
    (recipients, parsed message), in `.messages`."""
    from tests.mailbox import start_smtp

    inbox = start_smtp(app)
    yield inbox
    inbox.controllers[-1].stop()
