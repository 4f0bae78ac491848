"""Benchmarks: `python -m bench` measures and prints figures against their targets.

Figures only; nothing here asserts a timing (tests never do). Each benchmark builds its own
throwaway database and stays within a few seconds.
"""

import contextlib
import io
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass

import flask_migrate
from sqlalchemy import create_engine, select, text

from app import create_app, settle_heap
from app.boards.models import BoardColumn
from app.boards.services import active_columns
from app.cards.models import Card
from app.cards.moves import move_card
from app.extensions import db
from app.metrics.flow import percentile_nearest_rank

PG_ADMIN_URL = os.environ.get(
    "PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Figure:
    """One row of the results table."""

    name: str
    target: str
    measured: str
    detail: str = ""
    met: bool | None = None  # None: no target, or not measured

    @property
    def verdict(self) -> str:
        return {True: "ok", False: "MISSED", None: "-"}[self.met]


def migrated_app(database_url: str):
    """An app on a fresh database, migrated the way `flask db upgrade` does it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    with app.app_context(), contextlib.redirect_stderr(io.StringIO()):  # Alembic's INFO lines
        flask_migrate.upgrade()
    settle_heap()  # as wsgi.py does for a server
    return app


@contextlib.contextmanager
def throwaway_postgres(prefix: str = "swarmboard_bench"):
    """A new, empty PostgreSQL database's URL for the block, dropped afterwards.
    Raises ConnectionError (with the reason) when PostgreSQL cannot be reached."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001  (any failure to connect means: no PostgreSQL)
        admin.dispose()
        raise ConnectionError(str(error).splitlines()[0][:90]) from error
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed(action, *, budget: float, at_least: int, at_most: int) -> list[float]:
    """Seconds per call of `action` after one warm-up call: at least `at_least` calls, then
    more while within budget."""
    action()
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    while len(samples) < at_most and (len(samples) < at_least or time.perf_counter() < deadline):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def random_mover(board, actor, seed: int):
    """A function moving a random card of the board to another of its columns, as a request
    does it: load the card and the target column, move, commit."""
    rng = random.Random(seed)
    column_ids = [column.id for column in active_columns(board)]
    card_ids = list(db.session.scalars(select(Card.id).where(Card.board_id == board.id)))

    def one_move():
        card = db.session.get(Card, rng.choice(card_ids))
        target = rng.choice([i for i in column_ids if i != card.column_id])
        move_card(card, actor, column=db.session.get(BoardColumn, target))
        db.session.commit()

    return one_move


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def median_p95(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), percentile_nearest_rank(samples, 95)


def print_table(figures: list[Figure]) -> None:
    headers = ("Benchmark", "Target", "Measured", "Detail", "Result")
    rows = [(f.name, f.target, f.measured, f.detail, f.verdict) for f in figures]
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers))]
    line = "  ".join("-" * width for width in widths)
    print(line)
    for row in (headers, None, *rows):
        if row is None:
            print(line)
            continue
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(line)
