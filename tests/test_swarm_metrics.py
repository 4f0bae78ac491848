"""Swarm metrics on the metrics report, against figures worked out by hand."""

from datetime import datetime, timedelta

import pytest

from app.accounts.services import create_team
from app.cards.moves import move_card
from app.cards.services import create_card
from app.extensions import db
from app.metrics.services import MetricsQuery, board_metrics
from app.swarms import services as swarms
from tests import factories as make

DAY0 = datetime(2026, 11, 2, 8, 0)
NOW = DAY0 + timedelta(days=8)


@pytest.fixture
def swarmed(app):
    ann, bob = make.user("ann"), make.user("bob")
    make.user("cy")
    create_team("Network", [bob])
    board = make.board(ann, "simple", key="SWM", timezone="UTC")
    make.member(board, bob)
    doing, done = make.column(board, "Doing"), make.column(board, "Done")
    cards = []
    for n, days in enumerate((1, 2, 4)):
        start = DAY0 + timedelta(days=n)
        card = create_card(board, ann, title=f"Card {n}", column=doing, owner="ann", at=start)
        cards.append((card, start, start + timedelta(days=days)))
    # Card 2 (4 days) is swarmed: bob joins after 30 minutes, cy (no team) after 2 hours.
    card, start, finish = cards[2]
    swarm = swarms.start_swarm(card, ann, type="backlog", help_needed="Stuck", skills="dns, ldap",
                               at=start + timedelta(hours=1))
    for who, minutes in (("bob", 30), ("cy", 120)):
        invitation = swarms.invite(swarm, ann, who, at=start + timedelta(hours=1))
        swarms.accept_invitation(invitation, make_user(who),
                                 at=start + timedelta(hours=1, minutes=minutes))
    swarms.resolve_swarm(swarm, ann, continued_by="ann", outcome="Fixed",
                         at=start + timedelta(hours=1, days=1))
    # Card 1 gets an andon swarm that is cancelled; card 0 none.
    other = swarms.start_swarm(cards[1][0], ann, type="andon", help_needed="Down", skills="dns",
                               at=cards[1][1] + timedelta(hours=2))
    swarms.cancel_swarm(other, ann, reason="False alarm", at=cards[1][1] + timedelta(hours=3))
    for card, _start, finish in cards:
        move_card(card, ann, column=done, at=finish)
    db.session.commit()
    return board


def make_user(username):
    from app.accounts.services import user_by_username

    return user_by_username(username)


def test_swarm_metrics_count_types_people_and_timing(swarmed):
    query = MetricsQuery.from_args(swarmed, {"from": "2026-11-02", "to": "2026-11-09"}, now=NOW)
    report = board_metrics(swarmed, query, now=NOW)["swarms"]
    assert report["total"] == 2
    assert report["by_type"]["backlog"] == 1 and report["by_type"]["andon"] == 1
    assert sum(sum(w["types"].values()) for w in report["by_week"]) == 2
    assert report["outcomes"] == {"resolved": 1, "cancelled": 1}
    # Only the backlog swarm had an expert: 30 minutes to the first one.
    assert report["minutes_to_first_expert"]["p50"] == pytest.approx(30)
    # Durations: 1 day (resolved) and 1 hour (cancelled).
    assert report["duration_days"]["p85"] == pytest.approx(1)
    assert report["duration_days"]["p50"] == pytest.approx(1 / 24, abs=1e-4)
    # People: ann + bob + cy in one, ann alone in the other.
    assert sorted([report["people_per_swarm"]["p50"], report["people_per_swarm"]["p85"]]) == [1, 3]
    # Two of three finished cards had a swarm before finishing.
    assert report["share_of_finished_swarmed"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["cycle_time_swarmed"]["p85"] == pytest.approx(4)
    assert report["cycle_time_others"]["p50"] == pytest.approx(1)
    assert report["skills_requested"] == [{"skill": "dns", "swarms": 2},
                                          {"skill": "ldap", "swarms": 1}]
    assert report["contribution_by_team"] == [{"team": "Network", "swarms": 1, "people": 1},
                                              {"team": "No team", "swarms": 1, "people": 1}]


def test_the_metrics_page_shows_the_swarming_panel(swarmed, client, login):
    login("ann")
    page = client.get("/boards/SWM/metrics?from=2026-11-02&to=2026-11-09").get_data(as_text=True)
    assert 'data-swarm="total">2<' in page
    assert 'data-swarm="share">67%<' in page
    assert "Network" in page
    csv = client.get("/boards/SWM/metrics/swarms.csv?from=2026-11-02&to=2026-11-09")
    assert csv.get_data(as_text=True).splitlines()[0] == "week,dispatch,backlog,drop_in,andon"
