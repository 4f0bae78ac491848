"""The andon cord from the page: pulled and cleared on the card detail or the board card's
dialog, the banner on the board page, in every board answer and in the pushed fragments."""

import re
from datetime import timedelta

import pytest

from app.accounts.services import create_token, user_by_username
from app.cards.moves import move_card
from app.clock import utcnow
from app.events.models import Event
from app.extensions import db, socketio
from app.swarms.andon import pull_andon
from app.swarms.models import Swarm
from tests import factories as make

DETAIL = {"HX-Request": "true", "HX-Target": "card-detail"}
BOARD = {"HX-Request": "true", "HX-Target": "board"}
ALERT = re.compile(r'<div class="andon-alert"[^>]*data-card="([A-Z]+-\d+)"')


@pytest.fixture
def line(app):
    """OPS (restoration) owned by ann; bob a member, vic a viewer; OPS-1 waiting."""
    ann, bob, vic = make.user("ann"), make.user("bob"), make.user("vic")
    board = make.board(ann, "restoration", key="OPS")
    make.member(board, bob)
    make.member(board, vic, "viewer")
    card = make.card(board, ann, "Checkout latency above 2 s")
    return board, card


def banner_cards(html: str) -> list[str]:
    return ALERT.findall(html)


def event_count(board) -> int:
    return db.session.query(Event).filter_by(board_id=board.id).count()


def test_pulling_on_the_card_detail_flags_it_and_opens_an_andon_swarm(client, login, line):
    board, card = line
    login("bob")
    answer = client.post(f"/cards/{card.key}/andon", data={"reason": "p99 over SLO"},
                         headers=DETAIL)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["HX-Trigger"] == "boardChanged"
    assert "p99 over SLO" in html and "Clear the andon cord" in html
    db.session.expire_all()
    swarm = db.session.query(Swarm).one()
    assert card.andon_reason == "p99 over SLO" and (swarm.type, swarm.status) == ("andon", "open")
    assert "Swarm open: 1 person" in html  # the swarm panel knows at once


def test_the_board_page_shows_a_banner_for_each_pulled_cord(client, login, line):
    board, card = line
    other = make.card(board, user_by_username("ann"), "Payments failing")
    pull_andon(card, user_by_username("ann"), "Checkout down")
    pull_andon(other, user_by_username("ann"), "Card payments refused")
    db.session.commit()
    login("vic")
    page = client.get("/boards/OPS").get_data(as_text=True)
    assert banner_cards(page) == ["OPS-1", "OPS-2"]  # oldest pull first
    assert "Checkout down" in page and "Card payments refused" in page
    assert "role-viewer" in page  # a viewer's page hides the Clear buttons


def test_a_board_without_pulled_cords_has_an_empty_banner_to_push_into(client, login, line):
    login("ann")
    page = client.get("/boards/OPS").get_data(as_text=True)
    assert 'id="andon-banner"' in page and banner_cards(page) == []


def test_pulling_from_the_board_card_answers_the_board_with_the_banner(client, login, line):
    _, card = line
    login("bob")
    dialog = client.get(f"/cards/{card.key}/andon", headers={"HX-Request": "true"})
    assert 'name="reason"' in dialog.get_data(as_text=True)
    answer = client.post(f"/cards/{card.key}/andon", data={"reason": "Deploy failed"},
                         headers=BOARD)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'id="board"' in html
    assert 'id="andon-banner" class="andon-area"' in html and 'hx-swap-oob="outerHTML"' in html
    assert banner_cards(html) == ["OPS-1"] and "is-andon" in html
    cleared = client.post(f"/cards/{card.key}/andon/clear", headers=BOARD)
    assert cleared.status_code == 200 and banner_cards(cleared.get_data(as_text=True)) == []


@pytest.mark.parametrize(("reason", "sentence"), [("  ", "Andon reason cannot be empty."),
                                                  ("x" * 301, "Andon reason is too long")])
def test_a_pull_without_a_good_reason_is_refused_in_the_dialog(client, login, line, reason,
                                                               sentence):
    board, card = line
    before = event_count(board)
    login("bob")
    answer = client.post(f"/cards/{card.key}/andon", data={"reason": reason}, headers=BOARD)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and answer.headers["HX-Retarget"] == "#modal"
    assert "<dialog" in html and sentence in html and 'class="form-error"' in html
    db.session.expire_all()
    assert card.andon_at is None and event_count(board) == before
    assert db.session.query(Swarm).count() == 0


def test_pulling_twice_is_refused_on_the_card_with_a_sentence(client, login, line):
    board, card = line
    pull_andon(card, user_by_username("ann"), "Down")
    db.session.commit()
    before = event_count(board)
    login("bob")
    answer = client.post(f"/cards/{card.key}/andon", data={"reason": "Still down"},
                         headers=DETAIL)
    assert answer.status_code == 422
    assert "already pulled on OPS-1: Down" in answer.get_data(as_text=True)
    assert event_count(board) == before


def test_a_viewer_cannot_pull_or_clear(client, login, line):
    board, card = line
    login("vic")
    assert "Pull the andon cord" not in client.get(f"/cards/{card.key}").get_data(as_text=True)
    answer = client.post(f"/cards/{card.key}/andon", data={"reason": "Down"}, headers=DETAIL)
    assert answer.status_code == 403 and "As a viewer of OPS" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert card.andon_at is None


def test_clearing_records_the_time_to_clear(client, login, line):
    _, card = line
    pull_andon(card, user_by_username("ann"), "Down", at=utcnow() - timedelta(minutes=12))
    db.session.commit()
    login("bob")
    answer = client.post(f"/cards/{card.key}/andon/clear", headers=DETAIL)
    assert answer.status_code == 200 and "Pull the andon cord" in answer.get_data(as_text=True)
    cleared = db.session.query(Event).filter_by(type="card.andon_cleared").one()
    assert 12 * 60 <= cleared.data["seconds_to_clear"] < 13 * 60
    assert "cleared the andon cord after 12 min" in client.get(f"/cards/{card.key}").get_data(
        as_text=True)
    again = client.post(f"/cards/{card.key}/andon/clear", headers=DETAIL)
    assert again.status_code == 422 and "not pulled" in again.get_data(as_text=True)


def test_pull_and_clear_reach_other_open_views_as_banner_fragments(app, client, login, line):
    board, card = line
    viewer = socketio.test_client(app, auth={"token": create_token(user_by_username("vic"),
                                                                     "t")})
    db.session.commit()
    try:
        assert viewer.emit("join", {"board": "OPS"}, callback=True)["ok"]
        viewer.get_received()
        login("bob")
        client.post(f"/cards/{card.key}/andon", data={"reason": "Smoke tests red"},
                    headers=DETAIL)
        pushed = [m["args"][0] for m in viewer.get_received() if m["name"] == "board_event"]
        assert [m["type"] for m in pushed] == ["card.andon_pulled", "swarm.started"]
        html = pushed[-1]["html"]
        assert 'id="andon-banner" class="andon-area"' in html and "Smoke tests red" in html
        assert banner_cards(html) == ["OPS-1"] and 'hx-swap-oob="outerHTML"' in html
        client.post(f"/cards/{card.key}/andon/clear", headers=DETAIL)
        pushed = [m["args"][0] for m in viewer.get_received() if m["name"] == "board_event"]
        assert pushed[-1]["type"] == "card.andon_cleared"
        assert 'id="andon-banner"' in pushed[-1]["html"]
        assert banner_cards(pushed[-1]["html"]) == []
    finally:
        viewer.disconnect()


def test_an_ordinary_move_does_not_push_the_banner(app, client, login, line):
    board, card = line
    viewer = socketio.test_client(app, auth={"token": create_token(user_by_username("vic"),
                                                                     "t")})
    db.session.commit()
    try:
        viewer.emit("join", {"board": "OPS"}, callback=True)
        viewer.get_received()
        login("bob")
        client.post(f"/cards/{card.key}/block", data={"reason": "Vendor"}, headers=DETAIL)
        pushed = [m["args"][0] for m in viewer.get_received() if m["name"] == "board_event"]
        assert pushed and "andon-banner" not in pushed[-1]["html"]
    finally:
        viewer.disconnect()


def test_archiving_a_card_with_the_cord_pulled_takes_it_off_the_banner(client, login, line):
    board, card = line
    pull_andon(card, user_by_username("ann"), "Down")
    db.session.commit()
    login("ann")
    answer = client.post(f"/cards/{card.key}/archive", data={"swarm": "cancel"},
                         headers=DETAIL)
    assert answer.status_code == 200
    assert banner_cards(client.get("/boards/OPS").get_data(as_text=True)) == []


def test_a_finished_card_is_reopened_before_its_cord_can_be_pulled(client, login, line):
    board, card = line
    ann = user_by_username("ann")
    move_card(card, ann, column=next(c for c in board.columns if c.kind == "done"),
              override_reason="test")
    db.session.commit()
    before = event_count(board)
    login("bob")
    answer = client.post(f"/cards/{card.key}/andon", data={"reason": "Broken again"},
                         headers=DETAIL)
    assert answer.status_code == 422
    assert "is finished; move it out of done" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert card.andon_at is None and event_count(board) == before
