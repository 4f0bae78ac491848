"""Engine behaviour per dialect.

SQLite: WAL and foreign keys on every connection. Transactions that may write (every request
but GET/HEAD and Socket.IO events, every CLI command and script) open with BEGIN IMMEDIATE, so
two writers queue for the lock instead of one failing when it upgrades a read snapshot: SQLite's
stand-in for PostgreSQL's `SELECT … FOR UPDATE` on the board. Page reads stay concurrent.
"""

import sqlite3

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

COMMITTED = "swarmboard.committed"


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _read_only_request() -> bool:
    # Socket.IO events only read (who may see a board, events since N): they must never queue
    # for the write lock behind moves, whatever transport carried them. Nor does a request
    # reading its answer after its change committed (the moved card, the re-rendered cell).
    return has_request_context() and (
        request.method in ("GET", "HEAD", "OPTIONS")
        or request.path.startswith("/socket.io")
        or COMMITTED in request.environ
    )


@event.listens_for(Session, "after_commit")
def _note_commit(_session) -> None:
    if has_request_context():
        request.environ[COMMITTED] = True


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN" if _read_only_request() else "BEGIN IMMEDIATE")
