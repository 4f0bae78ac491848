"""What notifications cost the mover (SQLite, one process): move_card + commit on a board
nobody watches, then on one where 10 members watch the whole board, so every move writes 10
inbox rows and counts 10 unread badges inside the mover's transaction. No target in the issue;
the figure says what a busy board pays for its watchers."""

import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from app.accounts.services import create_user
from app.boards.services import active_columns, create_board, set_member, update_column
from app.cards.services import create_card
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.services import watch
from bench import Figure, median_p95, migrated_app, ms, random_mover

MOVES, WATCHERS = 300, 10


def move_samples(folder: str, watchers: int) -> tuple[list[float], int]:
    app = migrated_app(f"sqlite:///{Path(folder) / 'notify.db'}")
    with app.app_context():
        owner = create_user("owner", "bench-password")
        board = create_board(owner, name="Watched", key="WAT", template="restoration")
        for column in active_columns(board):
            update_column(board, owner, column, wip_limit=None)
        for number in range(watchers):
            person = create_user(f"watcher{number}", "bench-password")
            set_member(board, owner, person.username, "member")
            watch(person, board)
        for number in range(40):
            create_card(board, owner, title=f"Card {number}")
        db.session.commit()
        one_move = random_mover(board, owner, seed=7)

        one_move()
        samples = []
        for _ in range(MOVES):
            started = time.perf_counter()
            one_move()
            samples.append(time.perf_counter() - started)
        written = len(db.session.scalars(select(Notification.id)).all())
        db.session.remove()
        db.engine.dispose()
    return samples, written


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
        bare, _ = move_samples(folder, 0)
    with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
        watched, written = move_samples(folder, WATCHERS)
    (bare_median, bare_p95), (median, p95) = median_p95(bare), median_p95(watched)
    extra = median - bare_median
    return [Figure(
        f"A move on a board {WATCHERS} people watch (inbox rows in the move's transaction)",
        "-", f"{'+' if extra >= 0 else ''}{extra * 1000:.2f} ms",
        f"unwatched: median {ms(bare_median)}, p95 {ms(bare_p95)}; watched: median "
        f"{ms(median)}, p95 {ms(p95)}; {written} notifications written",
    )]
