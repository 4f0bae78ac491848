"""Monte Carlo forecasts: exact answers on constant throughput, confidence semantics, refusals."""

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from app.cards.moves import move_card
from app.cards.services import create_card
from app.errors import Invalid
from app.extensions import db
from app.metrics.forecast import ForecastQuery, forecast, how_many, when_done
from tests import factories as make

NOW = datetime(2026, 11, 25, 15, 0)
TODAY = date(2026, 11, 25)


def rng(seed=1):
    return np.random.default_rng(seed)


def by_confidence(result, key):
    return {row["confidence"]: row[key] for row in result["results"]}


def test_constant_throughput_gives_the_exact_total_at_every_confidence():
    result = how_many(np.array([2, 2, 2]), days=10, trials=1000, rng=rng())
    assert by_confidence(result, "items") == {50: 20, 70: 20, 85: 20, 95: 20}
    assert result["histogram"] == [{"items": 20, "trials": 1000}]


def test_constant_throughput_gives_the_exact_day():
    result = when_done(np.array([2]), items=7, trials=1000, rng=rng(), today=TODAY)
    # 2, 4, 6, 8: the running total reaches 7 on the fourth simulated day.
    assert by_confidence(result, "days") == {50: 4, 70: 4, 85: 4, 95: 4}
    assert by_confidence(result, "date")[85] == "2026-11-29"


def test_how_many_reports_the_total_reached_in_at_least_c_percent_of_trials():
    # One day, three days in four finish 4 items: 4 is reached in ~75% of trials.
    result = how_many(np.array([4, 4, 4, 0]), days=1, trials=10_000, rng=rng())
    assert by_confidence(result, "items") == {50: 4, 70: 4, 85: 0, 95: 0}


def test_when_reports_the_day_by_which_c_percent_of_trials_finished():
    # Each day finishes the one item with probability 3/4: P(done by day k) = 1 - 4^-k,
    # so .75 by day 1, .9375 by day 2, .984 by day 3.
    result = when_done(np.array([0, 1, 1, 1]), items=1, trials=10_000, rng=rng(), today=TODAY)
    assert by_confidence(result, "days") == {50: 1, 70: 1, 85: 2, 95: 3}


def test_the_same_seed_repeats_and_another_seed_differs():
    samples = np.array([0, 1, 2, 3, 5, 8])
    first = how_many(samples, days=20, trials=2000, rng=rng(7))
    again = how_many(samples, days=20, trials=2000, rng=rng(7))
    other = how_many(samples, days=20, trials=2000, rng=rng(8))
    assert first == again
    assert first["histogram"] != other["histogram"]


@pytest.fixture
def steady(app):
    """A board finishing exactly two cards every day for the last two weeks."""
    ann = make.user("ann")
    board = make.board(ann, "simple", key="STY")
    doing, done = make.column(board, "Doing"), make.column(board, "Done")
    for day in range(1, 15):
        for slot in range(2):
            start = NOW - timedelta(days=day, hours=4 + slot)
            card = create_card(board, ann, title=f"Day {day} #{slot}", column=doing, at=start,
                               override_reason="history")
            move_card(card, ann, column=done, at=start + timedelta(hours=2))
    db.session.commit()
    return board


def test_a_board_with_steady_throughput_forecasts_exactly(steady):
    query = ForecastQuery.from_args(steady, {"when": "9", "basis_days": "14", "seed": "3"}, now=NOW)
    result = forecast(steady, query, now=NOW)
    assert result["basis"] == {"from": "2026-11-11", "to": "2026-11-24", "days": 14, "total": 28,
                               "mean_per_day": 2.0}
    assert result["start"] == "2026-11-26"
    assert by_confidence(result, "date") == dict.fromkeys((50, 70, 85, 95), "2026-11-30")

    query = ForecastQuery.from_args(steady, {"how_many_by": "2026-12-05", "basis_days": "14"},
                                    now=NOW)
    assert by_confidence(forecast(steady, query, now=NOW), "items") == dict.fromkeys(
        (50, 70, 85, 95), 20)


def test_a_basis_without_finished_cards_is_refused(steady):
    query = ForecastQuery.from_args(steady, {"when": "5", "type": "change"}, now=NOW)
    with pytest.raises(Invalid, match="No cards finished"):
        forecast(steady, query, now=NOW)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "Ask one question"),
        ({"when": "5", "how_many_by": "2026-12-01"}, "Ask one question"),
        ({"how_many_by": "2026-11-25"}, "after today"),
        ({"how_many_by": "soon"}, "must be a date"),
        ({"how_many_by": "2040-01-01"}, "at most"),
        ({"when": "0"}, "between 1 and"),
        ({"when": "ten"}, "whole number"),
        ({"when": "5", "trials": "10"}, "trials must be between 100 and 100000"),
        ({"when": "5", "trials": "1000000000"}, "trials must be between"),
        ({"when": "5", "seed": "-4"}, "seed must be between"),
        ({"when": "5", "basis_days": "0"}, "basis_days must be between"),
        ({"when": "5", "colour": "red"}, "Unknown forecast parameter 'colour'"),
        ({"when": "5", "lane": "Nowhere"}, "no lane"),
    ],
)
def test_bad_forecast_questions_are_refused(steady, args, message):
    with pytest.raises(Invalid, match=message):
        ForecastQuery.from_args(steady, args, now=NOW)
