"""The swarm room's pages and actions: who sees what, what each role may do, invitations from
the room and from My work, ending a swarm, and the refusals that change nothing."""

import re
from datetime import timedelta

import pytest

from app.clock import utcnow
from app.extensions import db
from app.swarms import services as swarms
from app.swarms.models import SwarmMessage, SwarmTask
from tests.swarm_room_data import as_user, build_room

HX = {"HX-Request": "true"}


@pytest.fixture
def room(app):
    return build_room()


def invite(swarm, actor, username, **kwargs):
    invitation = swarms.invite(swarm, actor, username, **kwargs)
    db.session.commit()
    return invitation


def text(response) -> str:
    return response.get_data(as_text=True)


def room_classes(page: str) -> list[str]:
    return re.search(r'<div id="room" class="([^"]*)"', page).group(1).split()


# --- seeing the room ----------------------------------------------------------------------


def test_the_owner_sees_the_room_with_card_suggestions_and_controls(app, room):
    _, _, card, swarm, _ = room
    page = text(as_user(app, "ann").get(f"/swarms/{swarm.id}"))
    assert "Mail queue stuck on relay-2" in page and "Help needed:" in page
    assert "Xena" in page and "knows postfix (5/5)" in page  # suggested, with the why
    assert "Resolve…" in page and "Cancel swarm…" in page
    assert 'id="composer"' in page
    assert "created it in To do" in page and "started a backlog swarm" in page  # history
    assert "board-person" in room_classes(page)  # the card's link shows


def test_a_board_member_sees_the_room_and_may_join_but_not_steer(app, room):
    _, _, _, swarm, _ = room
    bob = as_user(app, "bob")
    page = text(bob.get(f"/swarms/{swarm.id}"))
    assert "Join the swarm" in page and "Resolve…" not in page and 'id="composer"' not in page
    joined = bob.post(f"/swarms/{swarm.id}/join", headers=HX)
    assert joined.status_code == 200
    assert 'id="composer"' in text(joined) and "You joined the swarm." in text(joined)
    assert [s.user.username for s in swarm.present()] == ["ann", "bob"]


def test_a_viewer_may_watch_but_not_join_or_post(app, room):
    _, _, _, swarm, _ = room
    vic = as_user(app, "vic")
    page = text(vic.get(f"/swarms/{swarm.id}"))
    assert "You can watch this room." in page and "Join the swarm" not in page
    refused = vic.post(f"/swarms/{swarm.id}/join", headers=HX)
    assert refused.status_code == 403 and "Viewers can watch" in text(refused)
    posted = vic.post(f"/swarms/{swarm.id}/messages", data={"body": "hi"}, headers=HX)
    assert posted.status_code == 403 and "Join the swarm to post" in text(posted)
    assert db.session.query(SwarmMessage).count() == 0


def test_an_invited_expert_sees_the_room_and_card_but_not_the_board(app, room):
    _, _, card, swarm, people = room
    invite(swarm, people["ann"], "xena", why="knows postfix")
    xena = as_user(app, "xena")
    page = text(xena.get(f"/swarms/{swarm.id}"))
    assert "Mail queue stuck on relay-2" in page and "Join the swarm" in page
    # No way onto the board from here: the card panel is the same for every viewer (it is
    # pushed), and its link to the card shows only in a board person's room (CSS).
    assert "board-person" not in room_classes(page)
    assert xena.get("/boards/SIM").status_code == 404
    assert xena.get(f"/cards/{card.key}").status_code == 404


def test_strangers_get_404_for_the_room(app, room):
    _, _, _, swarm, _ = room
    out = as_user(app, "out")
    assert out.get(f"/swarms/{swarm.id}").status_code == 404
    assert out.get("/swarms/9999").status_code == 404
    assert out.post(f"/swarms/{swarm.id}/join", headers=HX).status_code == 404


def test_logged_out_visitors_are_sent_to_log_in(client, room):
    _, _, _, swarm, _ = room
    response = client.get(f"/swarms/{swarm.id}")
    assert response.status_code in (302, 401)


# --- talking ------------------------------------------------------------------------------


def test_a_message_is_markdown_and_sanitised(app, room):
    _, _, _, swarm, _ = room
    answer = as_user(app, "ann").post(
        f"/swarms/{swarm.id}/messages",
        data={"body": "**relay-2** is <script>alert(1)</script> [x](javascript:alert(1))"},
        headers=HX,
    )
    assert answer.status_code == 200
    html = text(answer)
    assert "<strong>relay-2</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert [m.body[:12] for m in swarms.messages_of(swarm)] == ["**relay-2** "]


@pytest.mark.parametrize(
    ("body", "sentence"),
    [("   ", "Message cannot be empty."), ("x" * 4001, "Message is too long")],
)
def test_an_empty_or_oversized_message_is_refused(app, room, body, sentence):
    _, _, _, swarm, _ = room
    answer = as_user(app, "ann").post(f"/swarms/{swarm.id}/messages", data={"body": body},
                                      headers=HX)
    assert answer.status_code == 422 and sentence in text(answer)
    assert db.session.query(SwarmMessage).count() == 0


def test_pinning_a_decision_and_ticking_tasks(app, room):
    _, _, _, swarm, _ = room
    ann = as_user(app, "ann")
    ann.post(f"/swarms/{swarm.id}/messages", data={"body": "Flush the deferred queue"},
             headers=HX)
    message = swarms.messages_of(swarm)[0]
    pinned = ann.post(f"/swarms/{swarm.id}/messages/{message.id}/pin", headers=HX)
    assert pinned.status_code == 200 and "Decision" in text(pinned)
    added = ann.post(f"/swarms/{swarm.id}/tasks", data={"text": "Check MX records",
                                                         "assignee": "ann"}, headers=HX)
    assert added.status_code == 200 and "Check MX records" in text(added)
    task = db.session.query(SwarmTask).one()
    ticked = ann.post(f"/swarms/{swarm.id}/tasks/{task.id}", data={"done": "1"}, headers=HX)
    assert ticked.status_code == 200 and "1/1 done" in text(ticked)
    db.session.refresh(task)
    db.session.refresh(message)
    assert task.done and message.pinned_at is not None


def test_leaving_keeps_the_stint_with_its_times(app, room):
    _, _, _, swarm, _ = room
    bob = as_user(app, "bob")
    bob.post(f"/swarms/{swarm.id}/join", headers=HX)
    left = bob.post(f"/swarms/{swarm.id}/leave", headers=HX)
    assert left.status_code == 200 and "left" in text(left)
    stint = next(s for s in swarm.stints if s.user.username == "bob")
    db.session.refresh(stint)
    assert stint.left_at is not None
    again = bob.post(f"/swarms/{swarm.id}/leave", headers=HX)
    assert again.status_code == 422 and "You are not in this swarm." in text(again)


# --- invitations --------------------------------------------------------------------------


def test_inviting_from_the_room_and_twice_is_refused(app, room):
    _, _, _, swarm, _ = room
    ann = as_user(app, "ann")
    first = ann.post(f"/swarms/{swarm.id}/invitations",
                     data={"username": "xena", "why": "knows postfix (5/5)"}, headers=HX)
    assert first.status_code == 200 and "Xena is invited." in text(first)
    again = ann.post(f"/swarms/{swarm.id}/invitations", data={"username": "xena"}, headers=HX)
    assert again.status_code == 422
    assert "Xena has already been invited and not answered yet." in text(again)
    assert len(swarm.invitations) == 1
    nobody = ann.post(f"/swarms/{swarm.id}/invitations", data={"username": "ghost"}, headers=HX)
    assert nobody.status_code == 404 and "There is no user &#39;ghost&#39;." in text(nobody)


def test_a_viewer_cannot_invite(app, room):
    _, _, _, swarm, _ = room
    refused = as_user(app, "vic").post(f"/swarms/{swarm.id}/invitations",
                                       data={"username": "xena"}, headers=HX)
    assert refused.status_code == 403
    assert not swarm.invitations


def test_invitations_show_in_the_header_and_on_my_work(app, room):
    _, _, _, swarm, people = room
    invite(swarm, people["ann"], "xena", why="knows postfix")
    home = text(as_user(app, "xena").get("/"))
    assert "Swarm invitations" in home and "Mail queue stuck on relay-2" in home
    assert 'class="count">1<' in home
    assert 'class="count">0<' in text(as_user(app, "bob").get("/"))


def test_accepting_joins_the_room_and_redirects_there(app, room):
    _, _, _, swarm, people = room
    invitation = invite(swarm, people["ann"], "xena")
    answer = as_user(app, "xena").post(f"/swarms/invitations/{invitation.id}/accept",
                                       headers=HX)
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == f"/swarms/{swarm.id}"
    assert [(s.user.username, s.role) for s in swarm.present()][-1] == ("xena", "expert")


def test_declining_with_a_reason_takes_the_invitation_away(app, room):
    _, _, _, swarm, people = room
    invitation = invite(swarm, people["ann"], "xena")
    xena = as_user(app, "xena")
    answer = xena.post(f"/swarms/invitations/{invitation.id}/decline",
                       data={"reason": "On call for the network"}, headers=HX)
    assert answer.status_code == 200 and "You declined the swarm on SIM-1." in text(answer)
    db.session.refresh(invitation)
    assert (invitation.status, invitation.decline_reason) == ("declined",
                                                              "On call for the network")
    assert xena.get(f"/swarms/{swarm.id}").status_code == 404  # declined: no longer a guest
    page = text(as_user(app, "ann").get(f"/swarms/{swarm.id}"))
    assert "On call for the network" in page


def test_an_expired_invitation_cannot_be_accepted(app, room):
    _, _, _, swarm, people = room
    invitation = invite(swarm, people["ann"], "xena", at=utcnow() - timedelta(hours=9))
    answer = as_user(app, "xena").post(f"/swarms/invitations/{invitation.id}/accept",
                                       headers=HX)
    assert answer.status_code == 422 and "This invitation has expired" in text(answer)
    db.session.refresh(invitation)
    assert invitation.status == "pending" and len(swarm.present()) == 1


def test_a_cancelled_swarms_invitation_cannot_be_accepted(app, room):
    _, _, _, swarm, people = room
    invitation = invite(swarm, people["ann"], "xena")
    swarms.cancel_swarm(swarm, people["ann"], reason="Fixed itself")
    db.session.commit()
    answer = as_user(app, "xena").post(f"/swarms/invitations/{invitation.id}/accept",
                                       headers=HX)
    assert answer.status_code == 422 and "already cancelled" in text(answer)
    assert all(s.left_at is not None for s in swarm.stints)


def test_someone_elses_invitation_is_not_found(app, room):
    _, _, _, swarm, people = room
    invitation = invite(swarm, people["ann"], "xena")
    answer = as_user(app, "bob").post(f"/swarms/invitations/{invitation.id}/accept",
                                      headers=HX)
    assert answer.status_code == 404
    db.session.refresh(invitation)
    assert invitation.status == "pending"


# --- ending -------------------------------------------------------------------------------


def test_resolving_hands_the_card_over_and_closes_the_room(app, room):
    board, _, card, swarm, people = room
    swarms.join_swarm(swarm, people["bob"])
    db.session.commit()
    ann = as_user(app, "ann")
    answer = ann.post(f"/swarms/{swarm.id}/resolve", headers=HX, data={
        "continued_by": "bob", "outcome": "Relay-2's DNS cache was stale",
        "learned": "Flush the resolver cache first"})
    assert answer.status_code == 200
    assert "Resolved: Bob continues with SIM-1" in text(answer)
    db.session.refresh(card)
    assert card.owner.username == "bob" and swarm.status == "resolved"
    assert not swarm.present()
    page = text(ann.get(f"/swarms/{swarm.id}"))
    assert "This room is closed." in page and "Flush the resolver cache first" in page
    assert "Reopen" in page
    closed = ann.post(f"/swarms/{swarm.id}/messages", data={"body": "one more"}, headers=HX)
    assert closed.status_code == 422 and "its room is closed" in text(closed)
    # The summary goes onto the card's history, in words.
    history = text(ann.get(f"/cards/{card.key}"))
    assert "resolved the swarm (2 people); bob continues." in history
    assert "Learned: Flush the resolver cache first" in history
    assert "swarm.resolved" not in history and "joined the swarm" in history


def test_resolving_someone_elses_swarm_without_the_right_is_forbidden(app, room):
    _, _, card, swarm, people = room
    swarms.join_swarm(swarm, people["bob"])
    db.session.commit()
    answer = as_user(app, "bob").post(f"/swarms/{swarm.id}/resolve", headers=HX,
                                      data={"continued_by": "bob", "outcome": "Mine now"})
    assert answer.status_code == 403 and "Only the card&#39;s owner" in text(answer)
    db.session.refresh(card)
    assert card.owner.username == "ann" and swarm.status == "open"


def test_resolving_needs_an_outcome(app, room):
    _, _, _, swarm, _ = room
    answer = as_user(app, "ann").post(f"/swarms/{swarm.id}/resolve", headers=HX,
                                      data={"continued_by": "ann", "outcome": " "})
    assert answer.status_code == 422 and "Outcome cannot be empty." in text(answer)
    assert swarm.status == "open"


def test_cancel_needs_a_reason_and_reopen_needs_a_resolved_swarm(app, room):
    _, _, _, swarm, _ = room
    ann = as_user(app, "ann")
    refused = ann.post(f"/swarms/{swarm.id}/cancel", data={"reason": ""}, headers=HX)
    assert refused.status_code == 422 and "Reason cannot be empty." in text(refused)
    not_yet = ann.post(f"/swarms/{swarm.id}/reopen", headers=HX)
    assert not_yet.status_code == 422 and "Only a resolved swarm can be reopened" in text(not_yet)
    cancelled = ann.post(f"/swarms/{swarm.id}/cancel", data={"reason": "Duplicate of SIM-4"},
                         headers=HX)
    assert cancelled.status_code == 200 and "Duplicate of SIM-4" in text(cancelled)
    assert swarm.status == "cancelled"


def test_a_resolved_swarm_reopens_from_the_room(app, room):
    _, _, _, swarm, people = room
    swarms.resolve_swarm(swarm, people["ann"], continued_by="ann", outcome="Fixed")
    db.session.commit()
    answer = as_user(app, "ann").post(f"/swarms/{swarm.id}/reopen", headers=HX)
    assert answer.status_code == 200 and 'id="composer"' in text(answer)
    assert swarm.status == "open"


def test_without_htmx_actions_redirect_back_to_the_room(app, room):
    _, _, _, swarm, _ = room
    answer = as_user(app, "bob").post(f"/swarms/{swarm.id}/join")
    assert answer.status_code == 302 and answer.headers["Location"] == f"/swarms/{swarm.id}"
