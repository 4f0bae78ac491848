"""Engine behaviour per dialect.

SQLite: WAL and foreign keys on every connection. Transactions that may write (every request
but GET/HEAD and Socket.IO events, every CLI command and script) open with BEGIN IMMEDIATE, so
two writers queue for the lock instead of one failing when it upgrades a read snapshot: SQLite's
stand-in for PostgreSQL's `SELECT … FOR UPDATE` on the board. Page reads stay concurrent.

Under gevent (`make serve`) a writer waits for the lock in turns with the other greenlets: SQLite's
own busy handler sleeps inside C, which would stop the whole process — including the greenlet
holding the lock, should it be waiting on anything that yields — for the full busy timeout.

Statements on the hot paths (a move, its push, a page) are built once at import and run with
bound parameters. Building a `select()` and deriving its cache key cost more than running it:
measured on a card-badge query, 770 µs built per call against 220 µs built once (SQLAlchemy
keeps a built statement's cache key). Those that return plain rows rather than objects run
through `rows()`, which skips the ORM's result machinery (74 µs against 43 µs a query).
"""

import sqlite3
import sys
import time

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

COMMITTED = "swarmboard.committed"
WRITE_LOCKED = "swarmboard.write_locked"  # on a connection: its transaction began IMMEDIATE
KEPT = "swarmboard.kept"  # in a session's info: what `kept_for_transaction` holds
BUSY_SECONDS = 15  # how long a writer waits for another's transaction before giving up


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
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
    if connection.dialect.name != "sqlite":
        return
    connection.info[WRITE_LOCKED] = not _read_only_request()
    if not connection.info[WRITE_LOCKED]:
        connection.exec_driver_sql("BEGIN")
    elif _greenlets():
        _begin_in_turn(connection.connection.driver_connection)
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def kept_for_transaction(session: Session, name: str) -> dict:
    """A dict that lives until the session's transaction ends (commit or rollback), for
    answers one request needs more than once."""
    return session.info.setdefault(KEPT, {}).setdefault(name, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_kept(session: Session, transaction) -> None:
    if transaction.parent is None or transaction.nested:  # not a flush's own subtransaction
        session.info.pop(KEPT, None)


MAX_ID = 2**31 - 1  # the largest id or number the database's integer columns hold


def row_id(value) -> int | None:
    """An id from outside (a URL, a form, a JSON body) as a number the database can hold;
    None for anything else (text, negative, past MAX_ID: PostgreSQL refuses those)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 0 <= number <= MAX_ID else None


def by_id(session: Session, model, value):
    """The `model` row with that id, or None (see row_id)."""
    number = row_id(value)
    return session.get(model, number) if number is not None else None


def rows(session: Session, statement, params: dict | None = None):
    """Run a statement that selects columns, not objects, on the session's connection: plain
    rows, without the ORM's per-query setup. Pending changes are flushed first, as the ORM's
    autoflush would (and not inside `no_autoflush`)."""
    if session.autoflush:
        session.flush()  # returns at once when nothing is pending
    return session.connection().execute(statement, params)


def read_under_write_lock(session: Session) -> bool:
    """True when this transaction has held the write lock since its first statement (SQLite's
    BEGIN IMMEDIATE): then whatever it has read is current, and reading it again under a lock,
    as PostgreSQL must, would only cost time."""
    connection = session.connection()
    return connection.dialect.name == "sqlite" and connection.info.get(WRITE_LOCKED, False)


def _greenlets() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


def _begin_in_turn(driver: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, retried with a cooperative sleep while another writer holds the lock."""
    import gevent

    driver.execute("PRAGMA busy_timeout=0")
    try:
        deadline, pause = time.monotonic() + BUSY_SECONDS, 0.0005
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            gevent.sleep(pause)
            pause = min(pause * 2, 0.01)
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")


# --- WAL checkpoints, out of the requests ----------------------------------------------------

CHECKPOINT_SECONDS = 1.0


def _no_autocheckpoint(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class Checkpointer:
    """WAL checkpoints for a server on SQLite, in a thread of their own.

    A checkpoint copies committed pages from the write-ahead log into the database file and
    syncs the file. Left to SQLite, it runs inside whichever commit takes the log past 1,000
    pages: about one move in 150, which then took 4-5 ms longer (measured: 14 of 2,000 moves
    over 6 ms; none once commits left checkpoints to this thread). Here commits never
    checkpoint; a native thread does, every `every` seconds, passively (it never waits for a
    reader or a writer). Not a greenlet: SQLite runs without the GIL, so neither the server's
    event loop nor its requests wait while the file is written and synced."""

    def __init__(self, path: str, every: float = CHECKPOINT_SECONDS):
        self.path, self.every = path, every
        self.done = 0  # checkpoints run
        self._stopped = False

    def start(self) -> "Checkpointer":
        _native("_thread", "start_new_thread")(self._run, ())
        return self

    def stop(self) -> None:
        self._stopped = True

    def _run(self) -> None:
        sleep = _native("time", "sleep")
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopped:
                sleep(self.every)
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.done += 1
                except sqlite3.Error as error:  # the next round tries again
                    # Not through logging: its locks may be gevent's, and this is a real thread.
                    sys.stderr.write(f"swarmboard: WAL checkpoint failed: {error}\n")
        finally:
            connection.close()


def checkpoint_in_background(engine: Engine, every: float = CHECKPOINT_SECONDS):
    """For a server (wsgi.py) on an SQLite file: its commits stop checkpointing the WAL and a
    Checkpointer does it instead. Returns the Checkpointer (None on other databases)."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    event.listen(engine, "connect", _no_autocheckpoint)
    engine.dispose()  # connections opened before this would still checkpoint on commit
    return Checkpointer(path, every).start()


def _native(module: str, name: str):
    """The standard library's own function, even where gevent has patched it (a real thread,
    a real sleep)."""
    try:
        from gevent import monkey
    except ImportError:
        return getattr(__import__(module), name)
    return monkey.get_original(module, name)
