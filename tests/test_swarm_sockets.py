"""The swarm room live, through Flask-SocketIO's test client: who may join a swarm's room,
messages pushed after commit (never after a rollback, never echoed to the sender's own page),
invitations pushed to the invitee on any page, a decline showing the next suggestion, and the
board hearing of joins and hand-overs."""

import pytest

from app.extensions import db, socketio
from app.swarms import services as swarms
from tests import factories as make
from tests.swarm_room_data import as_user, build_room, forget_cached_person

HX = {"HX-Request": "true"}


@pytest.fixture
def room(app):
    return build_room()


@pytest.fixture
def sockets(app):
    """Socket.IO test clients for logged-in browsers (as_user); all closed afterwards."""
    opened = []

    def _open(browser):
        forget_cached_person()
        client = socketio.test_client(app, flask_test_client=browser)
        assert client.is_connected()
        opened.append(client)
        return client

    yield _open
    for client in opened:
        if client.is_connected():
            client.disconnect()


def received(client, name: str) -> list[dict]:
    return [m["args"][0] for m in client.get_received() if m["name"] == name]


def in_room(app, sockets, username: str, swarm):
    """A browser logged in as `username` and its socket, watching the swarm's room."""
    browser = as_user(app, username)
    client = sockets(browser)
    ack = client.emit("swarm_join", {"swarm": swarm.id}, callback=True)
    assert ack["ok"], ack
    client.get_received()
    return browser, client


# --- joining a swarm's room ---------------------------------------------------------------


def test_board_people_and_invited_experts_may_watch_the_room(app, sockets, room):
    board, _, _, swarm, people = room
    swarms.invite(swarm, people["ann"], "xena")
    db.session.commit()
    for username in ("ann", "bob", "vic", "xena"):
        client = sockets(as_user(app, username))
        ack = client.emit("swarm_join", {"swarm": swarm.id}, callback=True)
        assert ack == {"ok": True, "seq": board.last_seq, "status": "open"}, username


@pytest.mark.parametrize(
    ("username", "payload", "sentence"),
    [
        ("out", None, "There is no swarm"),  # not on the board, not invited
        ("ann", {"swarm": 999}, "There is no swarm 999."),
        ("ann", {"swarm": "1"}, 'needs a payload like {"swarm": <swarm id>}'),
        ("ann", {}, 'needs a payload like {"swarm": <swarm id>}'),
        ("ann", "1", 'needs a payload like {"swarm": <swarm id>}'),
    ],
)
def test_a_refused_room_join_answers_a_sentence_and_hears_nothing(app, sockets, room, username,
                                                                  payload, sentence):
    _, _, _, swarm, _ = room
    client = sockets(as_user(app, username))
    ack = client.emit("swarm_join", payload if payload is not None else {"swarm": swarm.id},
                      callback=True)
    assert ack["ok"] is False and sentence in ack["error"]
    assert any(sentence in e["error"] for e in received(client, "error"))
    as_user(app, "ann").post(f"/swarms/{swarm.id}/messages", data={"body": "secret"},
                             headers=HX)
    assert received(client, "swarm_event") == []


def test_a_declined_invitee_can_no_longer_watch(app, sockets, room):
    _, _, _, swarm, people = room
    invitation = swarms.invite(swarm, people["ann"], "xena")
    swarms.decline_invitation(invitation, people["xena"])
    db.session.commit()
    client = sockets(as_user(app, "xena"))
    ack = client.emit("swarm_join", {"swarm": swarm.id}, callback=True)
    assert ack["ok"] is False


# --- messages -----------------------------------------------------------------------------


def test_a_posted_message_reaches_the_room_after_commit(app, sockets, room):
    board, _, _, swarm, _ = room
    _, bob = in_room(app, sockets, "bob", swarm)
    answer = as_user(app, "ann").post(f"/swarms/{swarm.id}/messages",
                                      data={"body": "Look at **relay-2**"}, headers=HX)
    assert answer.status_code == 200
    [pushed] = received(bob, "swarm_event")
    assert pushed["swarm"] == swarm.id and pushed["types"] == ["swarm.message"]
    assert pushed["seq"] == board.last_seq
    assert 'hx-swap-oob="beforeend:#swarm-messages"' in pushed["html"]
    assert "<strong>relay-2</strong>" in pushed["html"] and "Ann" in pushed["html"]


def test_nothing_is_pushed_when_the_change_rolls_back(app, sockets, room):
    _, _, _, swarm, people = room
    _, bob = in_room(app, sockets, "bob", swarm)
    swarms.post_message(swarm, people["ann"], "Never mind")
    db.session.rollback()
    db.session.commit()  # a later, empty commit must not send what was rolled back either
    assert received(bob, "swarm_event") == []
    assert swarms.messages_of(swarm) == []


def test_a_refused_message_pushes_nothing(app, sockets, room):
    _, _, _, swarm, _ = room
    _, bob = in_room(app, sockets, "bob", swarm)
    answer = as_user(app, "ann").post(f"/swarms/{swarm.id}/messages", data={"body": " "},
                                      headers=HX)
    assert answer.status_code == 422
    assert received(bob, "swarm_event") == []


def test_the_senders_own_page_is_answered_not_echoed(app, sockets, room):
    _, _, _, swarm, _ = room
    ann_browser, ann = in_room(app, sockets, "ann", swarm)
    _, bob = in_room(app, sockets, "bob", swarm)
    sid = socketio.server.manager.sid_from_eio_sid(ann.eio_sid, "/")
    answer = ann_browser.post(f"/swarms/{swarm.id}/messages", data={"body": "Mine"},
                              headers={**HX, "X-Socket-Id": sid})
    assert answer.status_code == 200 and "Mine" in answer.get_data(as_text=True)
    assert received(ann, "swarm_event") == []
    assert len(received(bob, "swarm_event")) == 1


def test_joining_and_tasks_push_the_parts_they_change(app, sockets, room):
    _, _, _, swarm, _ = room
    _, ann = in_room(app, sockets, "ann", swarm)
    bob_browser = as_user(app, "bob")
    bob_browser.post(f"/swarms/{swarm.id}/join", headers=HX)
    [joined] = received(ann, "swarm_event")
    assert 'id="swarm-members"' in joined["html"] and "Bob" in joined["html"]
    bob_browser.post(f"/swarms/{swarm.id}/tasks", data={"text": "Check MX", "assignee": "bob"},
                     headers=HX)
    [task] = received(ann, "swarm_event")
    assert 'id="swarm-tasks"' in task["html"] and "Check MX" in task["html"]
    assert 'id="swarm-members"' not in task["html"]


def test_ending_the_swarm_asks_views_to_fetch_the_room_again(app, sockets, room):
    _, _, _, swarm, _ = room
    _, bob = in_room(app, sockets, "bob", swarm)
    as_user(app, "ann").post(f"/swarms/{swarm.id}/cancel", data={"reason": "Gone"}, headers=HX)
    [pushed] = received(bob, "swarm_event")
    assert pushed["refresh"] is True and "html" not in pushed


# --- invitations --------------------------------------------------------------------------


def test_an_invitation_reaches_the_invitee_on_any_page(app, sockets, room):
    _, _, _, swarm, _ = room
    xena = sockets(as_user(app, "xena"))  # connected from, say, their own board: no room join
    bob = sockets(as_user(app, "bob"))
    as_user(app, "ann").post(f"/swarms/{swarm.id}/invitations",
                             data={"username": "xena", "why": "knows postfix (5/5)"}, headers=HX)
    [pushed] = received(xena, "invitation")
    assert pushed["status"] == "pending" and pushed["swarm"] == swarm.id
    assert 'hx-swap-oob="beforeend:#toasts"' in pushed["html"]
    assert "Mail queue stuck on relay-2" in pushed["html"] and "knows postfix" in pushed["html"]
    assert "/accept" in pushed["html"] and "/decline" in pushed["html"]
    assert 'class="count">1<' in pushed["html"]
    assert received(bob, "invitation") == []


def test_a_decline_shows_the_room_the_next_suggestion(app, sockets, room):
    _, _, _, swarm, people = room
    _, ann = in_room(app, sockets, "ann", swarm)
    invitation = swarms.invite(swarm, people["ann"], "xena", why="knows postfix")
    db.session.commit()
    ann.get_received()
    xena_browser = as_user(app, "xena")
    xena = sockets(xena_browser)
    xena_browser.post(f"/swarms/invitations/{invitation.id}/decline",
                      data={"reason": "On call tonight"}, headers=HX)
    [pushed] = received(ann, "swarm_event")
    assert 'id="swarm-notice"' in pushed["html"]
    assert "Xena</strong> declined" in pushed["html"] and "On call tonight" in pushed["html"]
    assert "Next suggestion: <strong>Bob</strong>" in pushed["html"]  # knows dns
    [answered] = received(xena, "invitation")
    assert answered["status"] == "declined" and 'class="count">0<' in answered["html"]


# --- the board hears of it ----------------------------------------------------------------


def board_socket(app, sockets, username: str, key: str = "SIM"):
    client = sockets(as_user(app, username))
    assert client.emit("join", {"board": key}, callback=True)["ok"]
    client.get_received()
    return client


def test_joining_the_swarm_updates_the_cards_badge_on_the_board(app, sockets, room):
    _, _, card, swarm, _ = room
    board = board_socket(app, sockets, "vic")
    as_user(app, "bob").post(f"/swarms/{swarm.id}/join", headers=HX)
    [event] = received(board, "board_event")
    assert event["type"] == "swarm.joined" and event["card"] == card.key
    assert "⚇ 2" in event["html"]


def test_resolving_shows_the_new_owner_on_the_board(app, sockets, room):
    _, _, card, swarm, people = room
    swarms.join_swarm(swarm, people["bob"])
    db.session.commit()
    board = board_socket(app, sockets, "vic")
    as_user(app, "ann").post(f"/swarms/{swarm.id}/resolve", headers=HX,
                             data={"continued_by": "bob", "outcome": "DNS cache"})
    events = received(board, "board_event")
    assert [e["type"] for e in events] == ["card.updated", "swarm.resolved"]
    assert 'title="Owner: Bob"' in events[-1]["html"]
    assert "swarm-badge" not in events[-1]["html"]  # everyone released


def test_pinning_a_decision_pushes_the_decisions_and_the_pinned_message(app, sockets, room):
    _, _, _, swarm, people = room
    message = swarms.post_message(swarm, people["ann"], "Flush the resolver cache")
    db.session.commit()
    _, bob = in_room(app, sockets, "bob", swarm)
    as_user(app, "ann").post(f"/swarms/{swarm.id}/messages/{message.id}/pin", headers=HX)
    [pushed] = received(bob, "swarm_event")
    assert pushed["types"] == ["swarm.decision"]
    assert 'id="swarm-decisions"' in pushed["html"]
    assert f'id="message-{message.id}" hx-swap-oob="true"' in pushed["html"]


def test_a_cancelled_swarm_withdraws_the_invitees_toast(app, sockets, room):
    _, _, _, swarm, people = room
    swarms.invite(swarm, people["ann"], "xena")
    db.session.commit()
    xena = sockets(as_user(app, "xena"))
    as_user(app, "ann").post(f"/swarms/{swarm.id}/cancel", data={"reason": "Fixed itself"},
                             headers=HX)
    [withdrawn] = received(xena, "invitation")
    assert withdrawn["status"] == "cancelled" and 'class="count">0<' in withdrawn["html"]



def test_an_invitee_who_declines_stops_hearing_the_room(app, sockets, room):
    _, _, _, swarm, people = room
    invitation = swarms.invite(swarm, people["ann"], "xena")
    db.session.commit()
    xena_browser, xena = in_room(app, sockets, "xena", swarm)  # a guest while invited
    xena_browser.post(f"/swarms/invitations/{invitation.id}/decline", headers=HX)
    xena.get_received()
    as_user(app, "ann").post(f"/swarms/{swarm.id}/messages", data={"body": "Still here?"},
                             headers=HX)
    assert received(xena, "swarm_event") == []


def test_talk_in_the_room_does_not_redraw_the_card_on_the_board(app, sockets, room):
    _, _, _, swarm, _ = room
    board = board_socket(app, sockets, "vic")
    as_user(app, "ann").post(f"/swarms/{swarm.id}/messages", data={"body": "Any news?"},
                             headers=HX)
    [event] = received(board, "board_event")
    assert event["type"] == "swarm.message" and "html" not in event and "refresh" not in event


# --- the room's card ------------------------------------------------------------------------


def test_moving_or_blocking_the_card_redraws_it_in_the_room(app, sockets, room):
    board, _, card, swarm, people = room
    swarms.invite(swarm, people["ann"], "xena")
    db.session.commit()
    _, xena_socket = in_room(app, sockets, "xena", swarm)  # an invitee from another team
    ann = as_user(app, "ann")

    assert ann.post(f"/cards/{card.key}/move", data={"column": "Doing"},
                    headers=HX).status_code == 200
    [moved] = received(xena_socket, "swarm_event")
    assert moved["swarm"] == swarm.id and moved["types"] == ["card.moved"]
    assert moved["seq"] == board.last_seq
    panel = moved["html"]
    assert 'id="room-card"' in panel and 'hx-swap-oob="outerHTML"' in panel
    assert "In <strong>Doing</strong>" in panel and "moved it To do → Doing" in panel
    # The same for every viewer: the link onto the board is there, shown by the room's class
    # only to the board's people.
    assert 'class="small-link board-only"' in panel

    blocking = as_user(app, "bob").post(f"/cards/{card.key}/block", headers=HX,
                                        data={"reason": "Waiting on DNS team"})
    assert blocking.status_code == 200
    [blocked] = received(xena_socket, "swarm_event")
    assert "Blocked: Waiting on DNS team" in blocked["html"]


def test_changes_to_other_cards_leave_the_room_alone(app, sockets, room):
    board, _, _, swarm, people = room
    _, bob = in_room(app, sockets, "bob", swarm)
    other = make.card(board, people["ann"], "Printer out of toner")
    db.session.commit()
    as_user(app, "ann").post(f"/cards/{other.key}/move", data={"column": "Doing"}, headers=HX)
    assert received(bob, "swarm_event") == []
