"""Flow metrics computed from the event log, checked against figures worked out by hand.

The board: Backlog (backlog) · Ready (queue) · Doing (active) · Done (done), time zone UTC,
day 0 = Monday 2026-11-02; the window is days 0–7 and "now" is the start of day 8.
"""

from datetime import date, datetime, timedelta

import pytest

from app.boards.services import add_column, add_lane
from app.cards.moves import move_card
from app.cards.services import archive_card, block_card, create_card, unblock_card
from app.errors import Invalid
from app.extensions import db
from app.metrics.flow import percentile_nearest_rank
from app.metrics.services import MetricsQuery, board_metrics, day_start
from app.metrics.timeline import Timeline, board_steps
from tests import factories as make

DAY0 = datetime(2026, 11, 2)
NOW = DAY0 + timedelta(days=8)


def at(day: float, hour: float = 0) -> datetime:
    return DAY0 + timedelta(days=day, hours=hour)


def stream_board(owner, key="FLO", timezone="UTC"):
    board = make.board(owner, template=None, key=key, timezone=timezone)
    for name, kind in (("Backlog", "backlog"), ("Ready", "queue"), ("Doing", "active"),
                       ("Done", "done")):
        add_column(board, owner, name=name, kind=kind)
    db.session.commit()
    return board


def col(board, name):
    return make.column(board, name)


def move(card, actor, board, name, when):
    return move_card(card, actor, column=col(board, name), at=when)


@pytest.fixture
def flow(app):
    """Six cards with a history covering every rule (see each card's comment)."""
    ann = make.user("ann")
    board = stream_board(ann)
    expedite = add_lane(board, ann, name="Expedite", class_of_service="expedite")
    cards = {}

    # A: backlog → Ready (start) → Doing, blocked 4 h by the vendor, → Done on day 1.
    a = create_card(board, ann, title="A", type="incident", column=col(board, "Backlog"),
                    lane=expedite, tags=["vpn"], at=at(0, 8))
    move(a, ann, board, "Ready", at(0, 10))
    move(a, ann, board, "Doing", at(0, 12))
    block_card(a, ann, "Vendor", at=at(0, 14))
    unblock_card(a, ann, at=at(0, 18))
    move(a, ann, board, "Done", at(1, 12))
    cards["A"] = a
    # B: skips Ready, straight from the backlog into Doing.
    b = create_card(board, ann, title="B", type="change", column=col(board, "Backlog"),
                    at=at(1))
    move(b, ann, board, "Doing", at(2))
    move(b, ann, board, "Done", at(4))
    cards["B"] = b
    # C: created committed in Ready, finished on day 2, reopened on day 3, finished on day 5.
    c = create_card(board, ann, title="C", type="incident", column=col(board, "Ready"), at=at(0))
    move(c, ann, board, "Done", at(2))
    move(c, ann, board, "Doing", at(3))
    move(c, ann, board, "Done", at(5))
    cards["C"] = c
    # D: waiting in Ready since day 3 noon, blocked by the vendor from day 4 on.
    d = create_card(board, ann, title="D", type="incident", column=col(board, "Ready"),
                    at=at(3, 12))
    block_card(d, ann, "Vendor", at=at(4))
    cards["D"] = d
    # E: never leaves the backlog.
    cards["E"] = create_card(board, ann, title="E", column=col(board, "Backlog"), at=at(0, 9))
    # F: started in Doing on day 1, discarded (archived unfinished) on day 2.
    f = create_card(board, ann, title="F", column=col(board, "Doing"), at=at(1))
    archive_card(f, ann, at=at(2))
    cards["F"] = f
    db.session.commit()
    return board, cards


def report(board, **args):
    query = MetricsQuery.from_args(board, {"from": "2026-11-02", "to": "2026-11-09", **args},
                                   now=NOW)
    return board_metrics(board, query, now=NOW)


def by_card(result):
    return {f["card"]: f for f in result["finished"]}


def test_cycle_time_runs_from_first_start_to_last_finish(flow):
    board, cards = flow
    finished = by_card(report(board))
    assert set(finished) == {cards[k].key for k in "ABC"}
    assert finished[cards["A"].key]["cycle_time_days"] == pytest.approx(26 / 24, abs=1e-4)
    assert finished[cards["B"].key]["cycle_time_days"] == pytest.approx(2)
    # C was reopened: first start (day 0) to its last finish (day 5).
    assert finished[cards["C"].key]["cycle_time_days"] == pytest.approx(5)
    assert finished[cards["C"].key]["finished_on"] == "2026-11-07"


def test_lead_time_runs_from_creation_to_finish(flow):
    board, cards = flow
    finished = by_card(report(board))
    assert finished[cards["A"].key]["lead_time_days"] == pytest.approx(28 / 24, abs=1e-4)
    assert finished[cards["B"].key]["lead_time_days"] == pytest.approx(3)
    stats = report(board)["lead_time"]
    assert stats["p50"] == pytest.approx(3)
    assert stats["p95"] == pytest.approx(5)


def test_cycle_time_percentiles_use_nearest_rank(flow):
    board, _ = flow
    stats = report(board)["cycle_time"]
    assert stats["count"] == 3
    assert stats["mean"] == pytest.approx((26 / 24 + 2 + 5) / 3, abs=1e-4)
    # Nearest rank over [1.08, 2, 5]: p50 → 2nd value, p70/p85/p95 → 3rd value.
    assert (stats["p50"], stats["p70"], stats["p85"], stats["p95"]) == (2.0, 5.0, 5.0, 5.0)
    assert report(board)["sle_days"] == 5.0
    assert stats["histogram"] == [
        {"days": 0, "cards": 0}, {"days": 1, "cards": 1}, {"days": 2, "cards": 1},
        {"days": 3, "cards": 0}, {"days": 4, "cards": 0}, {"days": 5, "cards": 1},
    ]


def test_blocked_time_counts_as_wait_in_flow_efficiency(flow):
    board, cards = flow
    finished = by_card(report(board))
    a = finished[cards["A"].key]
    # Ready 2 h (wait) + Doing 24 h of which 4 h blocked: active 20 h, wait 6 h.
    assert a["active_days"] == pytest.approx(20 / 24, abs=1e-4)
    assert a["wait_days"] == pytest.approx(6 / 24, abs=1e-4)
    assert a["flow_efficiency"] == pytest.approx(20 / 26, abs=1e-4)
    # C: Ready 2 days (wait), the day in Done before it reopened is neither, Doing 2 days.
    assert finished[cards["C"].key]["flow_efficiency"] == pytest.approx(0.5)
    assert finished[cards["B"].key]["flow_efficiency"] == pytest.approx(1.0)
    # Overall: active 20 h + 48 h + 48 h, wait 6 h + 0 + 48 h.
    assert report(board)["flow_efficiency"] == pytest.approx(116 / 170, abs=1e-4)


def test_throughput_counts_each_card_on_its_last_finish_with_zero_days(flow):
    board, _ = flow
    throughput = report(board)["throughput"]
    assert [d["count"] for d in throughput["per_day"]] == [0, 1, 0, 0, 1, 1, 0, 0]
    assert throughput["per_day"][0]["date"] == "2026-11-02"
    assert throughput["total"] == 3
    assert throughput["histogram"] == [{"count": 0, "days": 5}, {"count": 1, "days": 3}]


def test_cfd_counts_cards_per_column_at_each_days_end(flow):
    board, _ = flow
    cfd = report(board)["cfd"]
    rows = [[day["columns"][c] for c in ("Backlog", "Ready", "Doing", "Done")] for day in cfd]
    assert rows == [
        [1, 1, 1, 0],  # day 0: E waiting; C in Ready; A in Doing
        [2, 1, 1, 1],  # day 1: B arrives; F starts in Doing; A done
        [1, 0, 1, 2],  # day 2: B in Doing; C done; F discarded
        [1, 1, 2, 1],  # day 3: C reopened into Doing; D arrives in Ready
        [1, 1, 1, 2],  # day 4: B done
        [1, 1, 0, 3],  # day 5: C done again
        [1, 1, 0, 3],
        [1, 1, 0, 3],
    ]


def test_wip_counts_started_unfinished_cards(flow):
    board, _ = flow
    result = report(board)
    assert [d["wip"] for d in result["wip_per_day"]] == [2, 2, 1, 3, 2, 1, 1, 1]
    assert result["wip"] == 1


def test_aging_wip_shows_each_unfinished_started_card(flow):
    board, cards = flow
    aging = report(board)["aging_wip"]
    assert aging == [{"card": cards["D"].key, "title": "D", "column": "Ready", "age_days": 4.5,
                      "blocked": True}]


def test_blocker_clusters_sum_blocked_time_per_reason(flow):
    board, _ = flow
    # A: 4 hours; D: from day 4 until now (day 8), still blocked.
    [vendor] = report(board)["blocked"]
    assert (vendor["reason"], vendor["count"]) == ("Vendor", 2)
    assert vendor["days"] == pytest.approx(4 + 4 / 24, abs=1e-4)


def test_value_stream_averages_time_per_step(flow):
    board, _ = flow
    stream = report(board)["value_stream"]
    steps = {s["column"]: s for s in stream["steps"]}
    assert set(steps) == {"Ready", "Doing"}
    assert steps["Ready"]["cards"] == 2  # B skipped it
    assert steps["Ready"]["avg_days"] == pytest.approx(25 / 24, abs=1e-4)
    assert steps["Doing"]["cards"] == 3
    assert steps["Doing"]["avg_days"] == pytest.approx(40 / 24, abs=1e-4)
    assert steps["Doing"]["avg_blocked_days"] == pytest.approx(4 / 24 / 3, abs=1e-4)
    assert stream["flow_efficiency"] == pytest.approx(116 / 170, abs=1e-4)


def test_littles_law_compares_average_wip_with_throughput_times_cycle_time(flow):
    board, _ = flow
    law = report(board)["littles_law"]
    assert law["avg_wip"] == pytest.approx(13 / 8)
    assert law["throughput_per_day"] == pytest.approx(3 / 8)
    expected = 3 / 8 * (26 / 24 + 7) / 3
    assert law["expected_wip"] == pytest.approx(expected, abs=1e-3)
    assert law["ratio"] == pytest.approx(13 / 8 / expected, abs=1e-3)


def test_filters_by_type_lane_and_tag(flow):
    board, cards = flow
    assert set(by_card(report(board, type="change"))) == {cards["B"].key}
    assert set(by_card(report(board, lane="expedite"))) == {cards["A"].key}
    assert set(by_card(report(board, lane="Expedite"))) == {cards["A"].key}
    assert set(by_card(report(board, tag="VPN"))) == {cards["A"].key}
    assert report(board, type="change")["cfd"][-1]["columns"]["Done"] == 1


def test_a_window_covers_only_its_own_days(flow):
    board, cards = flow
    query = MetricsQuery.from_args(board, {"from": "2026-11-05", "to": "2026-11-06"}, now=NOW)
    result = board_metrics(board, query, now=NOW)
    assert [d["date"] for d in result["throughput"]["per_day"]] == ["2026-11-05", "2026-11-06"]
    assert set(by_card(result)) == {cards["B"].key}
    # The state at the window's end, not now: C is still in progress on day 4.
    assert {a["card"] for a in result["aging_wip"]} == {cards["C"].key, cards["D"].key}
    # Blocked time is clipped to the window: D was blocked from day 4 on, so one day of it.
    assert result["blocked"] == [{"reason": "Vendor", "count": 1, "days": 1.0}]


def test_an_empty_board_reports_zeros_not_errors(app):
    board = stream_board(make.user("ann"), key="EMP")
    result = report(board)
    assert result["throughput"]["total"] == 0
    assert result["cycle_time"]["p85"] is None
    assert result["sle_days"] is None
    assert result["flow_efficiency"] is None
    assert result["littles_law"]["ratio"] is None
    assert len(result["cfd"]) == 8


def test_days_follow_the_boards_time_zone(app):
    ann = make.user("ann")
    board = stream_board(ann, key="TZ", timezone="Europe/Paris")
    card = create_card(board, ann, title="Late", column=col(board, "Doing"), at=at(0, 12))
    # 23:30 UTC on 2 November is 00:30 on 3 November in Paris.
    move(card, ann, board, "Done", at(0, 23.5))
    db.session.commit()
    per_day = report(board)["throughput"]["per_day"]
    assert per_day[0] == {"date": "2026-11-02", "count": 0}
    assert per_day[1] == {"date": "2026-11-03", "count": 1}


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        (list(range(1, 21)), 85, 17),
        (list(range(1, 21)), 50, 10),
        (list(range(1, 21)), 95, 19),
        ([3, 1, 2], 50, 2),
        ([7], 99, 7),
        (list(range(1, 101)), 70, 70),
    ],
)
def test_percentiles_are_nearest_rank(values, p, expected):
    assert percentile_nearest_rank(values, p) == expected


def test_no_values_have_no_percentile():
    assert percentile_nearest_rank([], 85) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"from": "2026-11-09", "to": "2026-11-02"}, "inverted"),
        ({"from": "2026-12-01"}, "after today"),
        ({"from": "yesterday"}, "must be a date"),
        ({"from": "2020-01-01"}, "at most"),
        ({"lane": "Fast"}, "no lane 'Fast'"),
        ({"type": "bug"}, "Unknown card type"),
        ({"colour": "red"}, "Unknown filter 'colour'"),
    ],
)
def test_bad_queries_are_refused_with_a_sentence(flow, args, message):
    board, _ = flow
    with pytest.raises(Invalid, match=message):
        MetricsQuery.from_args(board, args, now=NOW)


def test_the_default_window_is_the_last_30_days(flow):
    board, _ = flow
    query = MetricsQuery.from_args(board, {}, now=NOW)
    assert (query.start, query.end) == (date(2026, 11, 11) - timedelta(days=30), date(2026, 11, 10))


@pytest.mark.parametrize("first_day", ["2026-11-04", "2026-11-05", "2026-11-07", "2026-11-09"])
def test_cards_at_rest_before_the_window_give_the_same_report_as_a_full_replay(
    flow, monkeypatch, first_day
):
    """Done or archived cards quiet since before the window are not replayed; every figure
    must equal a full replay of the log."""
    board, cards = flow
    ann = cards["A"].created_by
    # G finishes on day 1 while still blocked; H finishes on day 1 and is archived on day 2.
    g = create_card(board, ann, title="G", column=col(board, "Doing"), at=at(0, 6))
    block_card(g, ann, "Change freeze", at=at(0, 20))
    move(g, ann, board, "Done", at(1, 2))
    h = create_card(board, ann, title="H", column=col(board, "Doing"), at=at(0, 7))
    move(h, ann, board, "Done", at(1, 3))
    archive_card(h, ann, at=at(2))
    db.session.commit()
    query = MetricsQuery.from_args(board, {"from": first_day, "to": "2026-11-09"}, now=NOW)

    timeline = Timeline(board, board_steps(board))
    timeline.load_cards(settled_before=day_start(board, query.start))
    fast = board_metrics(board, query, now=NOW)
    monkeypatch.setattr(Timeline, "_quiet_since", lambda self, moment: {})
    assert timeline.settled, "some cards must be at rest before the window"
    assert g.id not in timeline.settled  # still blocked: its blocked time shows in the window
    assert fast == board_metrics(board, query, now=NOW)
