"""The continual improvement register: an improvement card registered with the metric it means
to move takes that metric's baseline over the 30 days before; 30 days after the card is done the
metric is measured again and the verdict given (confirmed, refuted, inconclusive) and shown."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.services import create_token
from app.cards.models import Card
from app.cards.moves import move_card
from app.clock import utcnow
from app.events.models import Event
from app.extensions import db
from app.reviews.improvements import check_due, register, verdict
from app.reviews.models import Improvement
from tests import factories as make

NOW = utcnow().replace(microsecond=0)
REGISTERED = NOW - timedelta(days=70)  # the baseline: days 100 to 70 ago
DONE = NOW - timedelta(days=65)  # the improvement is done; measured again 65 to 35 days ago


@pytest.mark.parametrize("metric, before, after, expected", [
    ("cycle_p85", 10.0, 8.0, "confirmed"),  # lower is better
    ("cycle_p85", 10.0, 12.0, "refuted"),
    ("cycle_p85", 10.0, 9.5, "inconclusive"),  # within 10%
    ("throughput", 10.0, 12.0, "confirmed"),  # higher is better
    ("throughput", 10.0, 8.0, "refuted"),
    ("flow_efficiency", None, 0.5, "inconclusive"),  # too little data before
    ("blocked_days", 0.0, 0.0, "inconclusive"),
])
def test_the_verdict_is_a_move_of_ten_percent_the_right_way(metric, before, after, expected):
    assert verdict(metric, before, after) == expected


def finish(board, actor, title, started, days):
    """A card worked from `started` for `days` days."""
    card = make.card(board, actor, title)
    move_card(card, actor, column=make.column(board, "Doing"), at=started)
    move_card(card, actor, column=make.column(board, "Done"), at=started + timedelta(days=days))
    return card


@pytest.fixture
def history(simple):
    """SIM: before the improvement, four cards of 5 to 8 days; after it, three of 2 to 3."""
    board, ann, bob = simple
    for n, days in enumerate((5, 6, 7, 8)):
        finish(board, ann, f"before {n}", REGISTERED - timedelta(days=25 - n), days)
    for n, days in enumerate((2, 2, 3)):
        finish(board, ann, f"after {n}", DONE + timedelta(days=5 + n), days)
    improvement = make.card(board, ann, "Limit WIP in Doing to 3", type="improvement",
                            owner="bob")
    db.session.commit()
    return board, ann, improvement


def test_a_registered_improvement_is_measured_again_30_days_after_done(history, client, login):
    board, ann, card = history
    entry = register(card, ann, metric="cycle_p85", at=REGISTERED)
    assert entry.baseline == pytest.approx(8.0)  # p85 of 5, 6, 7, 8 days
    move_card(card, ann, column=make.column(board, "Doing"), at=REGISTERED)
    move_card(card, ann, column=make.column(board, "Done"), at=DONE)
    db.session.commit()
    assert check_due(DONE + timedelta(days=29)) == 0  # not yet
    assert check_due() == 1
    db.session.commit()
    entry = db.session.scalar(select(Improvement))
    assert (entry.after, entry.verdict) == (pytest.approx(3.0), "confirmed")
    assert check_due() == 0  # once
    types = db.session.scalars(select(Event.type).where(Event.type.like("improvement.%"))
                               .order_by(Event.seq)).all()
    assert types == ["improvement.registered", "improvement.checked"]
    login("ann")
    page = client.get("/boards/SIM/improvements").get_data(as_text=True)
    row = page[page.index(f'id="{card.key}"'):]
    row = row[:row.index("</tr>")]
    assert "8.0 days" in row and "3.0 days" in row and "confirmed" in row
    assert 'class="before-after"' in row  # the chart


def test_too_few_finished_cards_leave_the_verdict_inconclusive(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Pair on every incident", type="improvement")
    entry = register(card, ann, metric="flow_efficiency", origin="retrospective",
                     at=REGISTERED)
    assert entry.baseline is None
    move_card(card, ann, column=make.column(board, "Done"), at=DONE)
    db.session.commit()
    check_due()
    assert db.session.get(Improvement, entry.id).verdict == "inconclusive"


def test_registering_is_for_improvement_cards_once_with_a_known_metric(history, client, login):
    board, ann, card = history
    login("ann")
    other = make.card(board, ann, "Not an improvement")
    refused = client.post(f"/cards/{other.key}/improvement", data={"metric": "cycle_p85"})
    assert refused.status_code == 422 and "not an improvement card" in refused.get_data(
        as_text=True)
    unknown = client.post(f"/cards/{card.key}/improvement", data={"metric": "happiness"})
    assert unknown.status_code == 422
    page = client.get("/boards/SIM/improvements").get_data(as_text=True)
    assert "Take the baseline" in page
    assert client.post(f"/cards/{card.key}/improvement",
                       data={"metric": "blocked_days", "blocked_reason": "Waiting for vendor",
                             "origin": "standup"}).status_code == 302
    entry = db.session.scalar(select(Improvement))
    assert (entry.metric, entry.blocked_reason, entry.origin) == (
        "blocked_days", "Waiting for vendor", "standup")
    again = client.post(f"/cards/{card.key}/improvement", data={"metric": "cycle_p85"})
    assert again.status_code == 422 and "already in the register" in again.get_data(as_text=True)


def test_viewers_see_the_register_but_do_not_register(history, client, login):
    board, ann, card = history
    make.member(board, make.user("vic"), "viewer")
    login("vic")
    page = client.get("/boards/SIM/improvements").get_data(as_text=True)
    assert card.key in page and "Take the baseline" not in page
    refused = client.post(f"/cards/{card.key}/improvement", data={"metric": "cycle_p85"})
    assert refused.status_code == 403
    assert db.session.scalar(select(Improvement)) is None


def test_the_register_through_the_api_and_as_csv(history, client, login):
    board, ann, card = history
    register(card, ann, metric="cycle_p85", at=REGISTERED)
    move_card(card, ann, column=make.column(board, "Done"), at=DONE)
    check_due()
    token = create_token(ann, "reports")
    db.session.commit()
    rows = client.get("/api/v1/boards/SIM/improvements",
                      headers={"Authorization": f"Bearer {token}"}).get_json()["improvements"]
    assert [(r["card"], r["origin"], r["metric"], r["verdict"], r["owner"]) for r in rows] == [
        (card.key, "anyone", "cycle_p85", "confirmed", "bob")]
    login("ann")
    exported = client.get("/boards/SIM/improvements.csv")
    lines = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert lines[0][:3] == ["card", "title", "owner"]
    assert lines[1][0] == card.key and lines[1][10] == "confirmed"


def test_an_improvement_parked_at_the_stand_up_is_registered_as_from_the_stand_up(simple, client,
                                                                                   login):
    from app.standups.services import raise_impediment, start_standup

    board, ann, bob = simple
    standup = start_standup(board, ann)
    db.session.commit()
    login("ann")
    answer = client.post(f"/standups/{standup.id}/impediment",
                         data={"title": "Nobody can reach the staging VPN", "improvement": "1"},
                         headers={"HX-Request": "true"})  # as the stand-up bar sends it
    assert answer.status_code == 200
    plain = raise_impediment(standup, ann, "Printer out of toner")
    db.session.commit()
    card = db.session.scalar(select(Card).where(Card.title == "Nobody can reach the staging VPN"))
    assert (card.type, card.tags, plain.type != "improvement") == ("improvement", ["impediment"],
                                                                   True)
    entry = register(card, ann, metric="blocked_days")
    assert entry.origin == "standup"
    page = client.get("/boards/SIM/improvements").get_data(as_text=True)
    row = page[page.index(f'id="{card.key}"'):]
    assert "standup" in row[:row.index("</tr>")]
