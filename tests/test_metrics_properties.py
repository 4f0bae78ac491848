"""Properties of the flow metrics on generated histories (hypothesis), on SQLite."""

from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cards.moves import move_card
from app.cards.services import create_card
from app.extensions import db
from app.metrics.forecast import how_many
from app.metrics.services import MetricsQuery, board_metrics
from tests import factories as make

DAY0 = datetime(2026, 10, 1)
PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
_boards = iter(range(1, 10_000))


def fresh_board():
    """A restoration board without WIP limits: generated flows may crowd any column (a hard
    limit would refuse the move, and the flows are about metrics, not limits)."""
    owner = make.user()
    board = make.board(owner, "restoration", key=f"P{next(_boards)}")
    for column in board.columns:
        column.wip_limit = None
    for lane in board.lanes:
        lane.wip_limit = None
    return board, owner


def whole_window(board, days, now):
    query = MetricsQuery.from_args(
        board, {"from": DAY0.date().isoformat(), "to": (DAY0 + timedelta(days=days)).date()
                .isoformat()}, now=now)
    return board_metrics(board, query, now=now)


# Each card: hours after day 0 it arrives, then how many hours it spends in each later column
# (None = it stops there). Moves only go forward, never into removed columns.
journeys = st.lists(
    st.tuples(st.integers(0, 24 * 20), st.lists(st.integers(1, 72), max_size=12)),
    min_size=1, max_size=12,
)


def walk(board, owner, arrival, stays):
    columns = [c for c in board.columns if c.removed_at is None]
    when = DAY0 + timedelta(hours=arrival)
    card = create_card(board, owner, title="Generated", column=columns[0], at=when,
                       override_reason="generated")
    for column, hours in zip(columns[1:], stays, strict=False):
        when += timedelta(hours=hours)
        move_card(card, owner, column=column, at=when, override_reason="generated")
    return card


@sqlite_only
@PROPERTY
@given(journeys)
def test_throughput_total_equals_cards_finished(app, cards):
    board, owner = fresh_board()
    made = [walk(board, owner, arrival, stays) for arrival, stays in cards]
    db.session.commit()
    now = DAY0 + timedelta(days=40)
    result = whole_window(board, 39, now)
    finished = sum(1 for card in made if card.finished_at is not None)
    assert result["throughput"]["total"] == finished
    assert sum(d["count"] for d in result["throughput"]["per_day"]) == finished
    assert result["cycle_time"]["count"] == finished


@sqlite_only
@PROPERTY
@given(journeys)
def test_the_cfd_done_band_is_the_running_total_of_finishes(app, cards):
    board, owner = fresh_board()
    for arrival, stays in cards:
        walk(board, owner, arrival, stays)
    db.session.commit()
    now = DAY0 + timedelta(days=40)
    result = whole_window(board, 39, now)
    done = [c["name"] for c in result["columns"] if c["kind"] == "done"]
    running = 0
    for day, finishes in zip(result["cfd"], result["throughput"]["per_day"], strict=True):
        running += finishes["count"]
        assert sum(day["columns"][name] for name in done) == running
    # Every card is somewhere on every day after it arrived: the bands add up to the arrivals.
    assert sum(result["cfd"][-1]["columns"].values()) == len(cards)


@sqlite_only
@PROPERTY
@given(per_day=st.integers(1, 3), cycle_days=st.integers(1, 6))
def test_littles_law_holds_on_a_steady_flow(app, per_day, cycle_days):
    """`per_day` cards start every day and each takes exactly `cycle_days`: after warm-up,
    average WIP = throughput × cycle time."""
    owner = make.user()
    board = make.board(owner, "simple", key=f"L{next(_boards)}")
    doing, done = make.column(board, "Doing"), make.column(board, "Done")
    for day in range(30):
        for slot in range(per_day):
            start = DAY0 + timedelta(days=day, hours=9, minutes=slot)
            card = create_card(board, owner, title="Steady", column=doing, at=start,
                               override_reason="generated")
            if day + cycle_days < 30:
                move_card(card, owner, column=done, at=start + timedelta(days=cycle_days))
    db.session.commit()
    now = DAY0 + timedelta(days=30)
    query = MetricsQuery.from_args(board, {"from": (DAY0 + timedelta(days=10)).date().isoformat(),
                                           "to": (DAY0 + timedelta(days=29)).date().isoformat()},
                                   now=now)
    law = board_metrics(board, query, now=now)["littles_law"]
    assert law["throughput_per_day"] == pytest.approx(per_day)
    assert law["avg_cycle_time_days"] == pytest.approx(cycle_days)
    assert law["ratio"] == pytest.approx(1.0, rel=0.05)


@given(
    throughput=st.integers(0, 20),
    days=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
)
def test_monte_carlo_with_constant_throughput_is_exact(throughput, days, seed):
    result = how_many(np.array([throughput] * 7), days, trials=200, rng=np.random.default_rng(seed))
    assert {r["items"] for r in result["results"]} == {throughput * days}
