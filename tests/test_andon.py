"""The andon cord: pulled from a card or by a pipeline's webhook, cleared with the time to clear."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.errors import Forbidden, Invalid, NotFound
from app.events.models import Event
from app.extensions import db
from app.swarms.andon import (
    andon_cards,
    clear_andon,
    create_hook,
    pull_andon,
    pull_by_webhook,
    revoke_hook,
)
from tests import factories as make


@pytest.fixture
def line(app):
    ann, bob = make.user("ann"), make.user("bob")
    board = make.board(ann, "restoration", key="OPS")
    make.member(board, bob)
    card = make.card(board, bob, "Checkout latency above 2 s")
    return board, card, ann, bob


def test_pulling_flags_the_card_and_opens_an_andon_swarm(line):
    board, card, _, bob = line
    swarm = pull_andon(card, bob, "p99 over SLO for 10 minutes")
    db.session.commit()
    assert card.andon_reason == "p99 over SLO for 10 minutes"
    assert (swarm.type, swarm.help_needed) == ("andon", "p99 over SLO for 10 minutes")
    assert andon_cards(board) == [card]
    types = [e.type for e in db.session.query(Event).filter_by(board_id=board.id)]
    assert types[-2:] == ["card.andon_pulled", "swarm.started"]


def test_clearing_records_the_time_to_clear(line):
    board, card, _, bob = line
    pulled = utcnow() - timedelta(minutes=30)
    pull_andon(card, bob, "Deploy failed", at=pulled)
    clear_andon(card, bob, at=pulled + timedelta(minutes=25))
    db.session.commit()
    cleared = db.session.query(Event).filter_by(type="card.andon_cleared").one()
    assert cleared.data["seconds_to_clear"] == 25 * 60
    assert andon_cards(board) == []
    with pytest.raises(Invalid, match="not pulled"):
        clear_andon(card, bob)


def test_the_cord_cannot_be_pulled_twice_or_without_a_reason(line):
    _, card, _, bob = line
    with pytest.raises(Invalid, match="cannot be empty"):
        pull_andon(card, bob, " ")
    pull_andon(card, bob, "Broken")
    db.session.commit()
    with pytest.raises(Invalid, match="already pulled"):
        pull_andon(card, bob, "Still broken")


def test_a_webhook_pulls_the_cord_on_a_named_card(line):
    board, card, ann, _ = line
    _, token = create_hook(board, ann, "CI pipeline")
    db.session.commit()
    pull_by_webhook(board, token, {"card": card.key, "reason": "Smoke tests failed"})
    db.session.commit()
    assert card.andon_reason == "Smoke tests failed"
    pulled = db.session.query(Event).filter_by(type="card.andon_pulled").one()
    assert pulled.data["via"] == "webhook CI pipeline"


def test_a_webhook_can_open_a_new_card_in_the_expedite_lane(line):
    board, _, ann, _ = line
    _, token = create_hook(board, ann, "Monitoring")
    db.session.commit()
    swarm = pull_by_webhook(board, token, {"title": "Disk full on db-1", "reason": "95% used"})
    db.session.commit()
    assert swarm.card.title == "Disk full on db-1"
    assert swarm.card.lane.class_of_service == "expedite"
    assert swarm.card.priority == 1


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        ([], Invalid, "JSON object"),
        ({"reason": "x"}, Invalid, "not both"),
        ({"card": "OPS-1", "title": "x", "reason": "x"}, Invalid, "not both"),
        ({"card": "OPS-99", "reason": "x"}, NotFound, "no card OPS-99"),
        ({"card": 7, "reason": "x"}, Invalid, "card key"),
        ({"card": "OPS-1", "reason": 5}, Invalid, "reason must be text"),
        ({"card": "OPS-1", "reason": "x", "colour": "red"}, Invalid, "Unknown field"),
    ],
)
def test_malformed_webhook_bodies_are_refused_and_change_nothing(line, body, error, message):
    board, card, ann, _ = line
    _, token = create_hook(board, ann, "CI")
    db.session.commit()
    with pytest.raises(error, match=message):
        pull_by_webhook(board, token, body)
    db.session.rollback()
    assert andon_cards(board) == []


def test_bad_or_revoked_tokens_are_forbidden(line):
    board, card, ann, bob = line
    hook, token = create_hook(board, ann, "CI")
    db.session.commit()
    with pytest.raises(Forbidden):
        pull_by_webhook(board, "sbh_nope", {"card": card.key, "reason": "x"})
    other = make.board(ann, "simple", key="OTH")
    with pytest.raises(Forbidden):
        pull_by_webhook(other, token, {"card": card.key, "reason": "x"})
    revoke_hook(board, ann, hook.id)
    db.session.commit()
    with pytest.raises(Forbidden):
        pull_by_webhook(board, token, {"card": card.key, "reason": "x"})
    with pytest.raises(Forbidden):
        create_hook(board, bob, "mine")
