"""SQLite's write lock under gevent: a writer waits in turns, so the greenlet holding the lock
can finish (SQLite's own busy handler would sleep the whole process instead)."""

import sqlite3

import gevent
import pytest

from app.database import _begin_in_turn


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
