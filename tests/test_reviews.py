"""Post-incident reviews drafted from the event log: the timeline and impact come from what
happened (andon pulled, people invited, decisions pinned, cleared), the write-up is edited
with a stale save refused, actions become improvement cards that come up in the stand-up walk
until done, and reviews are published, listed and searched."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.services import create_token
from app.cards.models import Card
from app.cards.moves import move_card
from app.clock import utcnow
from app.events.models import Event
from app.extensions import db
from app.reviews.models import Review
from app.standups.walk import walk_order
from app.swarms.andon import clear_andon, pull_andon
from app.swarms.models import Swarm
from app.swarms.services import (
    accept_invitation,
    invite,
    pin_decision,
    post_message,
    resolve_swarm,
    start_swarm,
)
from tests import factories as make

T0 = utcnow().replace(microsecond=0) - timedelta(hours=3)


@pytest.fixture
def incident(simple):
    """SIM-1 stopped the line at T0: bob invited and in, a decision pinned, cleared 42 min on."""
    board, ann, bob = simple
    card = make.card(board, ann, "Payments API down", owner="ann")
    swarm = pull_andon(card, ann, "checkout fails for everyone", at=T0)
    invitation = invite(swarm, ann, "bob", at=T0 + timedelta(minutes=2))
    accept_invitation(invitation, bob, at=T0 + timedelta(minutes=5))
    message = post_message(swarm, bob, "Roll back release 4.2", at=T0 + timedelta(minutes=20))
    pin_decision(swarm, ann, message.id, at=T0 + timedelta(minutes=21))
    clear_andon(card, ann, at=T0 + timedelta(minutes=42))
    db.session.commit()
    return board, ann, bob, card


def draft(client, card_key: str):
    answer = client.post(f"/cards/{card_key}/review")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return answer.headers["Location"]


def test_a_review_is_drafted_from_the_log_with_timeline_and_impact(incident, client, login):
    board, ann, bob, card = incident
    login("ann")
    detail = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert "Draft review" in detail
    path = draft(client, card.key)
    page = client.get(path).get_data(as_text=True)
    timeline = page[page.index('class="timeline"'):page.index('id="write-up"')]
    order = ["pulled the andon cord", "started an andon swarm", "invited bob",
             "accepted the invitation", "pinned a decision", "Roll back release 4.2",
             "cleared the andon cord"]
    positions = [timeline.index(words) for words in order]
    assert positions == sorted(positions)
    assert "42 min" in page  # time to clear
    assert "checkout fails for everyone" in page  # the first draft's summary
    assert draft(client, card.key) == path  # one review per incident
    event = db.session.scalars(select(Event).order_by(Event.seq.desc())).first()
    assert (event.type, event.data["review"]) == ("review.drafted", int(path.rsplit("/", 1)[1]))
    detail = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert "Review (draft)" in detail
    assert "drafted the post-incident review" in detail  # the card's history says so


def test_a_card_without_an_incident_has_no_review(simple, client, login):
    board, ann, bob = simple
    card = make.card(board, ann, "Ordinary work")
    login("ann")
    assert "Draft review" not in client.get(f"/cards/{card.key}").get_data(as_text=True)
    answer = client.post(f"/cards/{card.key}/review")
    assert answer.status_code == 422
    assert "no incident to review" in answer.get_data(as_text=True)
    assert db.session.scalars(select(Review)).all() == []


def test_a_p1_swarm_is_an_incident_too(simple, client, login):
    board, ann, bob = simple
    card = make.card(board, ann, "Mail relay dropping messages", impact="high", urgency="high")
    assert card.priority == 1
    swarm = start_swarm(card, ann, type="backlog", help_needed="queues growing", at=T0)
    resolve_swarm(swarm, ann, continued_by="ann", outcome="relay restarted",
                  learned="disk alarms were off", at=T0 + timedelta(minutes=90))
    db.session.commit()
    login("ann")
    page = client.get(draft(client, card.key)).get_data(as_text=True)
    assert "1 h 30 min" in page
    assert "disk alarms were off" in page  # what the swarm learned starts the write-up


def test_a_save_over_a_colleagues_edit_is_refused_and_shows_theirs(incident, client, login):
    board, ann, bob, card = incident
    login("ann")
    path = draft(client, card.key)
    review = db.session.scalar(select(Review))
    fields = {"title": review.title, "summary": "s", "impact": "Checkout down 42 min",
              "contributing": "The release had no canary stage", "learned": "Canary first"}
    assert client.post(path, data={**fields, "version": "1"}).status_code == 302
    stale = client.post(path, data={**fields, "contributing": "mine", "version": "1"})
    assert stale.status_code == 409
    text = stale.get_data(as_text=True)
    assert "Someone saved this review" in text and "no canary stage" in text
    db.session.expire_all()
    assert db.session.get(Review, review.id).contributing == "The release had no canary stage"
    empty_title = client.post(path, data={**fields, "title": " ", "version": "2"})
    assert empty_title.status_code == 422


def test_actions_are_improvement_cards_walked_at_stand_up_until_done(incident, client, login):
    board, ann, bob, card = incident
    login("ann")
    path = draft(client, card.key)
    answer = client.post(f"{path}/actions", data={"title": "Add a canary stage", "owner": "bob"})
    assert answer.status_code == 302
    action = db.session.scalar(select(Card).where(Card.title == "Add a canary stage"))
    assert (action.type, action.owner.username) == ("improvement", "bob")
    assert f"review of {card.key}" in action.description
    steps = walk_order(board, None, utcnow())
    assert [s.reason for s in steps if s.card.id == action.id] == [
        f"open action from the review of {card.key}"]
    page = client.get(path).get_data(as_text=True)
    assert action.key in page and "Add a canary stage" in page
    move_card(action, ann, column=make.column(board, "Done"))
    db.session.commit()
    assert action.id not in {s.card.id for s in walk_order(board, None, utcnow())}
    bad_owner = client.post(f"{path}/actions", data={"title": "x", "owner": "nobody"})
    assert bad_owner.status_code == 422
    assert db.session.scalar(select(Card).where(Card.title == "x")) is None


def test_publishing_needs_the_write_up_and_reviews_are_listed_and_searched(incident, client,
                                                                          login):
    board, ann, bob, card = incident
    login("ann")
    path = draft(client, card.key)
    refused = client.post(f"{path}/publish")
    assert refused.status_code == 422 and "contributing factors" in refused.get_data(as_text=True)
    client.post(path, data={"title": "Checkout outage", "summary": "", "impact": "",
                            "contributing": "No canary stage for the payments API",
                            "learned": "Roll out to 1% first", "version": "1"})
    assert client.post(f"{path}/publish").status_code == 302
    listing = client.get("/boards/SIM/reviews").get_data(as_text=True)
    assert "Checkout outage" in listing and "published" in listing
    assert "Checkout outage" in client.get("/boards/SIM/reviews?q=CANARY").get_data(as_text=True)
    assert "No review mentions" in client.get("/boards/SIM/reviews?q=database").get_data(
        as_text=True)
    types = db.session.scalars(select(Event.type).where(Event.type.like("review.%"))
                               .order_by(Event.seq)).all()
    assert types == ["review.drafted", "review.updated", "review.published"]


def test_viewers_read_reviews_but_do_not_write_them(incident, client, login):
    board, ann, bob, card = incident
    vic = make.user("vic")
    make.member(board, vic, "viewer")
    login("ann")
    path = draft(client, card.key)
    client.post("/logout")
    login("vic")
    page = client.get(path).get_data(as_text=True)
    assert "Timeline" in page and 'name="contributing"' not in page
    assert client.post(path, data={"title": "x", "version": "1"}).status_code == 403
    assert client.post(f"{path}/actions", data={"title": "x"}).status_code == 403
    make.user("otto")
    client.post("/logout")
    login("otto")
    assert client.get(path).status_code == 404
    assert re.search(r"There is no", client.get(path).get_data(as_text=True))


def test_reviews_through_the_api_and_as_csv(incident, client, login):
    board, ann, bob, card = incident
    login("ann")
    path = draft(client, card.key)
    client.post(f"{path}/actions", data={"title": "Add a canary stage", "owner": "bob"})
    client.post(path, data={"title": "Checkout outage", "summary": "=1+2 requests failed",
                            "impact": "", "contributing": "", "learned": "", "version": "1"})
    token = create_token(ann, "reports")
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/boards/SIM/reviews", headers=auth).get_json()["reviews"]
    (review,) = listed
    assert (review["card"], review["status"], review["minutes_to_clear"]) == (
        card.key, "draft", 42.0)
    assert review["actions"][0]["owner"] == "bob" and review["actions"][0]["done"] is False
    one = client.get(f"/api/v1/reviews/{review['id']}", headers=auth).get_json()
    assert one["title"] == review["title"]
    assert client.get("/api/v1/boards/SIM/reviews?q=nothing-like-it", headers=auth
                      ).get_json() == {"reviews": []}
    stranger = create_token(make.user("otto"), "x")
    db.session.commit()
    assert client.get(f"/api/v1/reviews/{review['id']}",
                      headers={"Authorization": f"Bearer {stranger}"}).status_code == 404
    exported = client.get("/boards/SIM/reviews.csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][:3] == ["card", "title", "status"]
    assert rows[1][0] == card.key and rows[1][5] == "42.0" and rows[1][6:8] == ["1", "1"]
    assert rows[1][8] == "'=1+2 requests failed"  # a spreadsheet shows it, does not run it
    listing = client.get("/boards/SIM/reviews").get_data(as_text=True)
    assert "42 min" in listing and "1 of 1" in listing


def test_a_resolved_andon_swarm_offers_its_review_in_the_room(incident, client, login):
    board, ann, bob, card = incident
    swarm = db.session.scalars(select(Swarm).where(Swarm.card_id == card.id)).one()
    resolve_swarm(swarm, ann, continued_by="ann", outcome="rolled back")
    db.session.commit()
    login("ann")
    room = client.get(f"/swarms/{swarm.id}").get_data(as_text=True)
    assert "Draft the post-incident review" in room
    path = draft(client, card.key)
    assert f'href="{path}"' in client.get(f"/swarms/{swarm.id}").get_data(as_text=True)


def test_chat_channels_hear_of_reviews_in_words():
    from app.webhooks.chat import sentence

    event = {"type": "review.published", "actor": "ann", "card": "SIM-1", "board": "SIM",
             "data": {"actions": 2}}
    assert sentence(event, "Payments API down") == (
        "ann published the post-incident review of SIM-1 “Payments API down” (2 action(s))")
