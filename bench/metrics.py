"""Metrics on a big history: 10,000 cards and about 100,000 events, on SQLite and PostgreSQL.

Targets: the full metrics computation (and page) under 1 s; Monte Carlo at 10,000 trials over
90 days under 200 ms. Also the memory the computation allocates at its peak.

The history is written with bulk inserts, not through the services (that would take minutes);
it is shaped like what the services write: a card.created event, a card.moved event per column
passed, card.blocked/card.unblocked pairs, per-board sequence numbers without gaps.
"""

import random
import re
import tempfile
import tracemalloc
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, update

from app.accounts.services import create_user
from app.boards.models import Board
from app.boards.services import active_columns, board_lanes, create_board
from app.cards.models import Card
from app.clock import utcnow
from app.events.models import Event
from app.extensions import db
from app.metrics.forecast import ForecastQuery, forecast, how_many
from app.metrics.services import MetricsQuery, board_metrics
from bench import Figure, median_p95, migrated_app, ms, throwaway_postgres, timed
from bench.board_page import PASSWORD, log_in

CARDS = 10_000
HISTORY_DAYS = 365
KEY = "BIG"
PAGE_TARGET = 1.0
FORECAST_TARGET = 0.200


def build_history(rng: random.Random) -> int:
    """Write the board and its history; returns the number of events."""
    owner = create_user("owner", PASSWORD, display_name="Board Owner")
    now = utcnow()
    start = now - timedelta(days=HISTORY_DAYS)
    board = create_board(owner, name="Big history", key=KEY, template="restoration", at=start)
    columns, lanes = active_columns(board), board_lanes(board)
    db.session.flush()
    seq = board.last_seq
    cards, events = [], []
    for number in range(1, CARDS + 1):
        created = start + timedelta(minutes=number * HISTORY_DAYS * 1440 / CARDS * 0.97)
        # Recent cards stop early (they are the WIP); older ones mostly reach the end.
        age_days = (now - created).days
        reach = len(columns) if age_days > 20 else rng.randint(1, len(columns))
        at, path = created, []
        for index in range(reach):
            if index and rng.random() < 0.15 and index < reach - 1:
                continue  # skips a column
            path.append((columns[index], at))
            at += timedelta(hours=rng.expovariate(1 / 9))
        last, entered = path[-1]
        started = next((t for c, t in path if c.kind != "backlog"), None)
        cards.append({
            "id": number, "board_id": board.id, "number": number, "title": f"Item {number}",
            "type": rng.choice(["incident", "incident", "service_request", "change"]),
            "tags": [rng.choice(["vpn", "email", "k8s", "san"])], "required_skills": [],
            "column_id": last.id, "lane_id": rng.choices(lanes, [1, 2, 12, 3])[0].id,
            "rank": number << 16, "created_at": created, "column_entered_at": entered,
            "started_at": started, "finished_at": entered if last.kind == "done" else None,
        })
        for step, (column, when) in enumerate(path):
            seq += 1
            events.append({
                "board_id": board.id, "seq": seq, "at": when, "card_id": number,
                "type": "card.moved" if step else "card.created", "to_column_id": column.id,
                "from_column_id": path[step - 1][0].id if step else None, "data": {},
            })
            if step and column.kind == "active" and rng.random() < 0.2:
                reason = rng.choice(["Waiting for vendor", "Change freeze", "Needs access"])
                for kind, offset in (("card.blocked", 0.5), ("card.unblocked", 2.0)):
                    seq += 1
                    events.append({
                        "board_id": board.id, "seq": seq, "type": kind, "card_id": number,
                        "at": when + timedelta(hours=offset), "to_column_id": None,
                        "from_column_id": None, "data": {"reason": reason},
                    })
    db.session.execute(insert(Card), cards)
    db.session.execute(insert(Event), events)
    db.session.execute(
        update(Board).where(Board.id == board.id).values(last_seq=seq, next_card_number=CARDS + 1)
    )
    db.session.commit()
    return len(events)


def measure(app, label: str) -> list[Figure]:
    with app.app_context():
        count = build_history(random.Random(10_000))
        board = db.session.query(Board).filter_by(key=KEY).one()
        query = MetricsQuery.from_args(board, {})
        year = MetricsQuery.from_args(
            board, {"from": (query.end - timedelta(days=364)).isoformat()}
        )
        figures = [
            _computation(board, query, f"Metrics computed, last 30 days ({label})", count),
            _computation(board, year, f"Metrics computed, 365-day window ({label})", count),
        ]
        samples = np.array(
            [d["count"] for d in board_metrics(board, query)["throughput"]["per_day"]]
        )
        figures.append(_monte_carlo(board, samples, label))
    figures.append(_page(app, label))
    return figures


def _computation(board, query, name: str, events: int) -> Figure:
    samples = timed(lambda: board_metrics(board, query), budget=4.0, at_least=3, at_most=15)
    tracemalloc.start()
    board_metrics(board, query)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median, p95 = median_p95(samples)
    return Figure(
        name, f"< {PAGE_TARGET * 1000:.0f} ms", ms(median),
        f"p95 {ms(p95)}, {CARDS} cards, {events} events, peak {peak / 2**20:.1f} MiB allocated",
        met=median < PAGE_TARGET,
    )


def _monte_carlo(board, samples, label: str) -> Figure:
    rng = np.random.default_rng(1)
    simulation = timed(lambda: how_many(samples, 90, 10_000, rng), budget=2.0, at_least=5,
                       at_most=50)
    by = (MetricsQuery.from_args(board, {}).end + timedelta(days=90)).isoformat()
    whole = timed(
        lambda: forecast(board, ForecastQuery.from_args(board, {"how_many_by": by})),
        budget=3.0, at_least=3, at_most=20,
    )
    median, _ = median_p95(simulation)
    whole_median, _ = median_p95(whole)
    return Figure(
        f"Monte Carlo, 10,000 trials x 90 days ({label})",
        f"< {FORECAST_TARGET * 1000:.0f} ms", ms(median),
        f"whole forecast incl. reading the basis window from the log: {ms(whole_median)}",
        met=median < FORECAST_TARGET,
    )


def _page(app, label: str) -> Figure:
    name = f"Metrics page GET /boards/{KEY}/metrics ({label})"
    client = app.test_client()
    problem = log_in(client)
    first = None if problem else client.get(f"/boards/{KEY}/metrics")
    if first is None or first.status_code != 200:
        why = problem or f"GET answered {first.status_code}"
        return Figure(name, f"< {PAGE_TARGET * 1000:.0f} ms", "not measured", why)
    samples = timed(lambda: client.get(f"/boards/{KEY}/metrics"), budget=4.0, at_least=3,
                    at_most=15)
    median, p95 = median_p95(samples)
    charts = len(re.findall(r"<svg\b", first.get_data(as_text=True)))
    return Figure(
        name, f"< {PAGE_TARGET * 1000:.0f} ms", ms(median),
        f"p95 {ms(p95)}, {len(first.data) // 1024} KiB, {charts} SVG charts",
        met=median < PAGE_TARGET,
    )


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
        app = migrated_app(f"sqlite:///{Path(folder) / 'metrics.db'}")
        figures = measure(app, "SQLite")
        with app.app_context():
            db.engine.dispose()
    try:
        with throwaway_postgres() as url:
            app = migrated_app(url)
            figures += measure(app, "PostgreSQL")
            with app.app_context():
                db.engine.dispose()
    except ConnectionError as error:
        figures.append(Figure("Metrics (PostgreSQL)", "-", "skipped", str(error)))
    return figures


if __name__ == "__main__":
    from bench import print_table

    print_table(run())
