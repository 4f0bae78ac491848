"""Outgoing webhooks (SQLite, one process, receivers on 127.0.0.1):
- what 5 webhooks and 3 chat targets (Slack, Mattermost, Teams formats) cost the mover:
  move_card + commit with none, then with all 8 delivered by the server's own deliverer thread
  meanwhile, moves paced at about 30 a second as a team's
  are (back-to-back moves would starve the deliverer and flatter the figure) (target: at most
  1 ms more at the median);
- how fast a backlog drains: 1,000 queued events to one receiver (target: at least 200/s)."""

import tempfile
import time
from pathlib import Path

from app.accounts.services import create_user
from app.boards.services import active_columns, create_board, update_column
from app.cards.services import create_card
from app.extensions import db
from app.webhooks.delivery import deliver_due, start_in_process
from app.webhooks.models import Webhook
from app.webhooks.services import create_webhook
from bench import Figure, median_p95, migrated_app, ms, random_mover
from tests.receivers import Receiver

KEY = "HOOK"
QUEUED = 1000
DRAIN_TARGET = 200  # deliveries a second
EXTRA_TARGET = 0.001  # seconds a move may cost more with 5 webhooks
MOVES, PACE = 300, 0.03  # about 30 moves a second: 150 deliveries a second with 5 webhooks


def app_on(folder: str):
    app = migrated_app(f"sqlite:///{Path(folder) / 'webhooks.db'}")
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    return app


def build_board(cards: int) -> tuple:
    owner = create_user("owner", "bench-password")
    board = create_board(owner, name="Webhooks", key=KEY, template="restoration")
    for column in active_columns(board):
        update_column(board, owner, column, wip_limit=None)
    for number in range(cards):
        create_card(board, owner, title=f"Card {number}")
    db.session.commit()
    return board, owner


CHATS = ("slack", "mattermost", "teams")


def move_samples(app, webhooks: int, receivers: list[Receiver]) -> list[float]:
    with app.app_context():
        board, owner = build_board(40)
        for number in range(webhooks):
            create_webhook(board, owner, name=f"Hook {number}",
                           url=receivers[number % len(receivers)].url)
        for chat in CHATS if webhooks else ():
            create_webhook(board, owner, name=chat, url=receivers[-1].url, format=chat)
        db.session.commit()
        deliverer = start_in_process(app) if webhooks else None
        one_move = random_mover(board, owner, seed=5)

        one_move()  # warm-up
        samples = []
        for _ in range(MOVES):  # paced as people move cards, so the deliverer keeps up
            started = time.perf_counter()
            one_move()
            samples.append(time.perf_counter() - started)
            time.sleep(PACE)
        if deliverer is not None:
            deliverer.stop.set()
            deliverer.wake.set()
            time.sleep(0.2)
        db.session.remove()
        db.engine.dispose()
    return samples


def mover_cost() -> list[Figure]:
    with Receiver() as first, Receiver() as second, Receiver() as chat:
        with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
            bare = move_samples(app_on(folder), 0, [])
        with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
            hooked = move_samples(app_on(folder), 5, [first, second, chat])
        delivered = len(first.received) + len(second.received) + len(chat.received)
    (bare_median, bare_p95), (median, p95) = median_p95(bare), median_p95(hooked)
    extra = median - bare_median
    return [Figure(
        "A move with 5 webhooks and 3 chat targets, delivered meanwhile (SQLite), vs none",
        "<= +1.0 ms (median)",
        f"{'+' if extra >= 0 else ''}{extra * 1000:.2f} ms",
        f"none: median {ms(bare_median)}, p95 {ms(bare_p95)}; 5 + 3: median {ms(median)}, "
        f"p95 {ms(p95)}; {len(hooked)} moves at ~{1 / PACE:.0f}/s, {delivered} deliveries "
        f"made meanwhile",
        met=extra <= EXTRA_TARGET,
    )]


def drain_rate() -> list[Figure]:
    with Receiver() as receiver, tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
        app = app_on(folder)
        with app.app_context():
            owner = create_user("owner", "bench-password")
            board = create_board(owner, name="Drain", key=KEY, template="simple")
            db.session.commit()
            webhook = create_webhook(board, owner, name="Drain", url=receiver.url)
            db.session.commit()
            for number in range(QUEUED):
                create_card(board, owner, title=f"Alert {number}")
            db.session.commit()
            webhook_id, last = webhook.id, board.last_seq
            started = time.perf_counter()
            while db.session.get(Webhook, webhook_id).cursor < last:
                db.session.commit()
                deliver_due("bench")
            seconds = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
        got = len(receiver.received)
    rate = got / seconds
    return [Figure(
        f"Webhook backlog drained, {QUEUED} events to one local receiver (SQLite)",
        f">= {DRAIN_TARGET}/s", f"{rate:.0f}/s",
        f"{got} delivered in {seconds:.2f} s, each signed, POSTed and its cursor committed; "
        f"{seconds / max(got, 1) * 1000:.2f} ms each",
        met=rate >= DRAIN_TARGET,
    )]


def run() -> list[Figure]:
    return [*mover_cost(), *drain_rate()]
