"""Moves per second through the service layer: move_card and a commit per move, as a request
does it (target: at least 200/s on SQLite). PostgreSQL runs on a throwaway database."""

import tempfile
from pathlib import Path

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import create_user
from app.boards.access import get_board
from app.boards.services import active_columns, board_lanes, create_board, set_member, update_column
from app.cards.services import create_card
from app.extensions import db
from bench import Figure, median_p95, migrated_app, ms, random_mover, throwaway_postgres, timed

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
    with app.app_context():
        build_board()
        mover = db.session.scalar(select(User).where(User.username == "mover"))
        board = get_board(KEY, mover)
        one_move = random_mover(board, mover, seed=200)

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
    try:
        with throwaway_postgres() as url:
            return measure(migrated_app(url), "PostgreSQL", None)
    except ConnectionError as error:
        return Figure(
            "Moves/s, move_card + commit (PostgreSQL)", "-", "skipped",
            f"PostgreSQL not reachable: {error}",
        )


def run() -> list[Figure]:
    return [on_sqlite(), on_postgres()]
