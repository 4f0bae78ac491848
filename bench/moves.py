"""Moves per second through the service layer: move_card and a commit per move, as a request
does it (target: at least 200/s on SQLite). PostgreSQL runs on a throwaway database."""

import random
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, text

from app.accounts.models import User
from app.accounts.services import create_user
from app.boards.access import get_board
from app.boards.models import BoardColumn
from app.boards.services import active_columns, board_lanes, create_board, set_member, update_column
from app.cards.models import Card
from app.cards.moves import move_card
from app.cards.services import create_card
from app.extensions import db
from bench import PG_ADMIN_URL, Figure, median_p95, migrated_app, ms, timed

KEY = "MOVE"
CARDS = 60
TARGET_PER_SECOND = 200


def build_board() -> None:
    """A restoration board without column limits (the bench measures moves, not refusals)."""
    owner = create_user("owner", "bench-password")
    create_user("mover", "bench-password")
    board = create_board(owner, name="Moves", key=KEY, template="restoration")
    set_member(board, owner, "mover", "member")
    for column in active_columns(board):
        update_column(board, owner, column, wip_limit=None)
    lane = next(ln for ln in board_lanes(board) if ln.class_of_service == "standard")
    for number in range(CARDS):
        create_card(board, owner, title=f"Card {number}", lane=lane)
    db.session.commit()


def measure(app, label: str, target: int | None) -> Figure:
    rng = random.Random(200)
    with app.app_context():
        build_board()
        mover = db.session.scalar(select(User).where(User.username == "mover"))
        board = get_board(KEY, mover)
        column_ids = [column.id for column in active_columns(board)]
        card_ids = list(db.session.scalars(select(Card.id).where(Card.board_id == board.id)))

        def one_move():
            # As a request does it: load the card and the target column, move, commit.
            card = db.session.get(Card, rng.choice(card_ids))
            target = rng.choice([i for i in column_ids if i != card.column_id])
            move_card(card, mover, column=db.session.get(BoardColumn, target))
            db.session.commit()

        samples = timed(one_move, budget=2.5, at_least=50, at_most=3000)
        db.session.remove()
        db.engine.dispose()
    rate = len(samples) / sum(samples)
    median, p95 = median_p95(samples)
    return Figure(
        f"Moves/s, move_card + commit ({label})",
        f">= {target}/s" if target else "-",
        f"{rate:.0f}/s",
        f"per move: median {ms(median)}, p95 {ms(p95)}, n={len(samples)}",
        met=rate >= target if target else None,
    )


def on_sqlite() -> Figure:
    with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
        app = migrated_app(f"sqlite:///{Path(folder) / 'moves.db'}")
        return measure(app, "SQLite", TARGET_PER_SECOND)


def on_postgres() -> Figure:
    name = f"swarmboard_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001  (any failure to connect means: no PostgreSQL)
        admin.dispose()
        reason = str(error).splitlines()[0][:90]
        return Figure(
            "Moves/s, move_card + commit (PostgreSQL)",
            "-",
            "skipped",
            f"PostgreSQL not reachable: {reason}",
        )
    try:
        app = migrated_app(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        return measure(app, "PostgreSQL", None)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run() -> list[Figure]:
    return [on_sqlite(), on_postgres()]
