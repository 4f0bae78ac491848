"""SQLite's write lock under gevent: a writer waits in turns, so the greenlet holding the lock
can finish (SQLite's own busy handler would sleep the whole process instead). A server's WAL
checkpoints: in a thread of their own, never in a commit."""

import sqlite3
import time

import gevent
import pytest
from sqlalchemy import create_engine

from app.database import Checkpointer, _begin_in_turn, checkpoint_in_background


def connect(path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


def test_a_writer_waits_its_turn_while_another_greenlet_finishes_its_transaction(tmp_path):
    path = tmp_path / "turns.db"
    holder, waiter = connect(path), connect(path)
    holder.execute("CREATE TABLE moves (n INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO moves VALUES (1)")
    # The holder commits only when the hub runs it: the waiter must yield for that to happen.
    gevent.spawn_later(0.05, holder.execute, "COMMIT")
    with gevent.Timeout(5):
        _begin_in_turn(waiter)
    waiter.execute("INSERT INTO moves VALUES (2)")
    waiter.execute("COMMIT")
    assert [n for (n,) in waiter.execute("SELECT n FROM moves ORDER BY n")] == [1, 2]
    # The waiter's connection keeps its busy timeout for everything else it does.
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == 15000


def test_a_writer_gives_up_with_the_lock_error_when_the_holder_never_finishes(
    tmp_path, monkeypatch
):
    monkeypatch.setattr("app.database.BUSY_SECONDS", 0.2)
    path = tmp_path / "stuck.db"
    holder, waiter = connect(path), connect(path)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _begin_in_turn(waiter)
    assert not waiter.in_transaction


# Over 1,000 pages of 4 KiB: left to SQLite, the commit would checkpoint the log into the file.
BIG_WRITE = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) "
             "INSERT INTO blobs SELECT randomblob(4000) FROM n")


def test_a_servers_commits_leave_the_wal_checkpoint_to_its_own_thread(tmp_path):
    path = tmp_path / "server.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE blobs (b BLOB)")
    checkpointer = checkpoint_in_background(engine, every=60)  # not due during this test
    try:
        before = path.stat().st_size
        with engine.begin() as connection:
            connection.exec_driver_sql(BIG_WRITE)
        assert path.stat().st_size == before  # six megabytes committed, all still in the log
        assert (tmp_path / "server.db-wal").stat().st_size > 6_000_000

        # The thread's round copies them into the database file.
        quick = Checkpointer(str(path), every=0.05).start()
        deadline = time.monotonic() + 5
        while path.stat().st_size == before and time.monotonic() < deadline:
            time.sleep(0.05)
        quick.stop()
        assert path.stat().st_size > before + 6_000_000 and quick.done >= 1
    finally:
        checkpointer.stop()
        engine.dispose()


def test_only_sqlite_files_get_a_checkpointer():
    assert checkpoint_in_background(create_engine("sqlite://")) is None  # in memory
