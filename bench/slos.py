"""Error budgets on a board with a year of history: budgets_of for three objectives, as the
board's strip, every push that touches a budget, the wall and a feature's start compute it
(target: under 20 ms median on SQLite). The log holds 60,000 events of which 2,400 andon and
alert events; 120 P1 incidents. Each call starts from a fresh session, as a request does."""

import random
import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, update

from app.accounts.services import create_user
from app.boards.models import Board
from app.boards.services import create_board
from app.cards.models import Card
from app.cards.services import create_card
from app.clock import utcnow
from app.events.models import Event
from app.extensions import db
from app.slos.services import budgets_of, define_objective
from bench import Figure, median_p95, migrated_app, ms, timed

CARDS = 400
EVENTS = 60_000
OUTAGES = 600  # andon pulls and alerts, each opened and closed: 2,400 events
INCIDENTS = 120
TARGET = 0.020


def build(rng: random.Random) -> int:
    owner = create_user("owner", "bench-password")
    board = create_board(owner, name="Budgets", key="SLO", template="restoration")
    db.session.commit()
    now = utcnow()
    cards = [create_card(board, owner, title=f"Call {n}").id for n in range(CARDS)]
    incidents = cards[:INCIDENTS]
    for card_id in incidents:
        opened = now - timedelta(days=rng.uniform(0, 365))
        db.session.execute(update(Card).where(Card.id == card_id).values(
            type="incident", impact="high", urgency="high", created_at=opened,
            finished_at=opened + timedelta(hours=rng.uniform(0.5, 30))))
    rows, seq = [], board.last_seq
    start = now - timedelta(days=365)
    for n in range(EVENTS - 4 * OUTAGES):
        seq += 1
        rows.append({"board_id": board.id, "seq": seq, "type": "card.moved", "data": {},
                     "at": start + timedelta(minutes=n * 8), "card_id": rng.choice(cards)})
    for n in range(OUTAGES):
        at = start + timedelta(days=rng.uniform(0, 365))
        card_id = rng.choice(cards)
        for kind, data in ((("card.andon_pulled", "card.andon_cleared"), {}),
                           (("alert.fired", "alert.resolved"),
                            {"fingerprint": f"f{n}", "severity": "critical"})):
            for offset, type_ in enumerate(kind):
                seq += 1
                rows.append({"board_id": board.id, "seq": seq, "type": type_, "data": data,
                             "at": at + timedelta(minutes=offset * rng.uniform(5, 90)),
                             "card_id": card_id})
    db.session.execute(insert(Event), rows)
    board.last_seq = seq
    for name, target, kwargs in (("Service restored", "99.5", {"incident_priority": "1"}),
                                 ("Andon", "99.9", {"incident_priority": "0"}),
                                 ("Alerts", "99", {"incident_priority": "0", "alerts": "all",
                                                   "count_andon": ""})):
        define_objective(board, owner, name=name, target=target,
                         **{"count_andon": "1", "alerts": "critical", **kwargs})
    db.session.commit()
    return board.id


def run() -> list[Figure]:
    rng = random.Random(17)
    with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
        app = migrated_app(f"sqlite:///{Path(folder) / 'slos.db'}")
        with app.app_context():
            board_id = build(rng)
            db.session.remove()

            def budgets():
                budgets_of(db.session.get(Board, board_id))
                db.session.remove()

            samples = timed(budgets, budget=3.0, at_least=50, at_most=300)
            db.engine.dispose()
    median, p95 = median_p95(samples)
    return [Figure(
        "Error budgets of 3 objectives, a year of history (SQLite)",
        f"< {TARGET * 1000:.0f} ms median", ms(median),
        f"p95 {ms(p95)}, n={len(samples)}, {EVENTS:,} events, {INCIDENTS} P1 incidents",
        median < TARGET,
    )]


if __name__ == "__main__":
    from bench import print_table

    print_table(run())
