"""Swarms: starting, inviting, answering, the room, resolving and cancelling, who may do what."""

from datetime import timedelta

import pytest

from app.accounts.services import set_skill
from app.cards.services import update_card
from app.clock import utcnow
from app.errors import Forbidden, Invalid, NotFound
from app.events.models import Event
from app.extensions import db
from app.swarms import services as swarms
from app.swarms.knowledge import search_swarms, similar_swarms
from app.swarms.services import get_swarm, swarm_access
from tests import factories as make


@pytest.fixture
def desk(app):
    """SIM: ann owns the board and card SIM-1; bob is a member; vic a viewer; xena is from
    another team (not on the board); out is nobody's."""
    ann, bob, vic, xena, out = (make.user(n) for n in ("ann", "bob", "vic", "xena", "out"))
    board = make.board(ann, "simple", key="SIM")
    make.member(board, bob)
    make.member(board, vic, "viewer")
    card = make.card(board, ann, "Mail queue stuck on relay-2")
    update_card(card, ann, owner="ann")
    db.session.commit()
    return board, card, {u.username: u for u in (ann, bob, vic, xena, out)}


def start(card, actor, **kwargs):
    values = {"type": "backlog", "help_needed": "Mails pile up in the relay queue",
              "tried": "Restarted postfix", "skills": "postfix, dns", **kwargs}
    swarm = swarms.start_swarm(card, actor, **values)
    db.session.commit()
    return swarm


def event_types(board):
    return [e.type for e in db.session.query(Event).filter_by(board_id=board.id)
            .order_by(Event.seq)]


def test_starting_a_swarm_records_the_request_and_keeps_the_owner(desk):
    board, card, people = desk
    swarm = start(card, people["bob"])
    assert (swarm.type, swarm.skills, swarm.tried) == ("backlog", ["postfix", "dns"],
                                                       "Restarted postfix")
    assert card.owner.username == "ann"
    assert [(s.user.username, s.role) for s in swarm.present()] == [("bob", "requester")]
    assert event_types(board)[-1] == "swarm.started"


def test_a_card_has_at_most_one_open_swarm(desk):
    _, card, people = desk
    start(card, people["ann"])
    with pytest.raises(Invalid, match="already has an open swarm"):
        start(card, people["bob"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"type": "panic"}, "Swarm type"),
        ({"help_needed": "   "}, "help needed cannot be empty"),
        ({"help_needed": "x" * 2001}, "too long"),
    ],
)
def test_a_swarm_request_needs_a_type_and_the_help_needed(desk, values, message):
    _, card, people = desk
    with pytest.raises(Invalid, match=message):
        start(card, people["ann"], **values)


def test_viewers_and_outsiders_cannot_start_swarms(desk):
    _, card, people = desk
    with pytest.raises(Forbidden):
        start(card, people["vic"])
    with pytest.raises(NotFound):
        start(card, people["out"])


def test_an_invited_expert_from_another_team_sees_the_room_not_the_board(desk):
    board, card, people = desk
    swarm = start(card, people["ann"])
    assert swarm_access(swarm, people["xena"]) is None
    swarms.invite(swarm, people["ann"], "xena", why="knows postfix")
    db.session.commit()
    assert swarm_access(swarm, people["xena"]) == "guest"
    assert get_swarm(swarm.id, people["xena"]) is swarm
    from app.boards.access import get_board

    with pytest.raises(NotFound):
        get_board("SIM", people["xena"])
    with pytest.raises(NotFound):
        get_swarm(swarm.id, people["out"])


def test_inviting_someone_twice_is_refused(desk):
    _, card, people = desk
    swarm = start(card, people["ann"])
    swarms.invite(swarm, people["ann"], "xena")
    db.session.commit()
    with pytest.raises(Invalid, match="already been invited"):
        swarms.invite(swarm, people["ann"], "xena")


def test_accepting_joins_the_room_and_times_the_first_expert(desk):
    board, card, people = desk
    swarm = start(card, people["ann"])
    invitation = swarms.invite(swarm, people["ann"], "xena")
    db.session.commit()
    swarms.accept_invitation(invitation, people["xena"])
    db.session.commit()
    assert invitation.status == "accepted"
    assert swarm.first_expert_at is not None
    assert {(s.user.username, s.role) for s in swarm.present()} == {("ann", "owner"),
                                                                    ("xena", "expert")}
    assert event_types(board)[-2:] == ["swarm.joined", "swarm.invitation_accepted"]
    assert swarms.pending_invitations(people["xena"]) == []


def test_declining_with_a_reason_and_answering_twice(desk):
    _, card, people = desk
    swarm = start(card, people["ann"])
    invitation = swarms.invite(swarm, people["ann"], "bob")
    db.session.commit()
    swarms.decline_invitation(invitation, people["bob"], reason="On call for the SAN")
    db.session.commit()
    assert (invitation.status, invitation.decline_reason) == ("declined", "On call for the SAN")
    with pytest.raises(Invalid, match="already declined"):
        swarms.accept_invitation(invitation, people["bob"])


def test_an_expired_or_cancelled_invitation_cannot_be_accepted(desk):
    _, card, people = desk
    swarm = start(card, people["ann"])
    invitation = swarms.invite(swarm, people["ann"], "bob")
    db.session.commit()
    with pytest.raises(Invalid, match="expired"):
        swarms.accept_invitation(invitation, people["bob"], at=utcnow() + timedelta(days=1))
    db.session.commit()
    other = swarms.invite(swarm, people["ann"], "xena")
    swarms.cancel_swarm(swarm, people["ann"], reason="Fixed itself")
    db.session.commit()
    assert other.status == "cancelled"
    with pytest.raises(Invalid):
        swarms.accept_invitation(other, people["xena"])


def test_someone_elses_invitation_is_not_found(desk):
    _, card, people = desk
    swarm = start(card, people["ann"])
    invitation = swarms.invite(swarm, people["ann"], "xena")
    db.session.commit()
    with pytest.raises(NotFound):
        swarms.get_invitation(invitation.id, people["bob"])


def test_the_room_takes_messages_decisions_and_tasks_from_its_members(desk):
    board, card, people = desk
    swarm = start(card, people["ann"])
    message = swarms.post_message(swarm, people["ann"], "Queue is **12k** deep")
    swarms.pin_decision(swarm, people["ann"], message.id)
    task = swarms.add_task(swarm, people["ann"], "Check MX records", assignee="bob")
    swarms.set_task_done(swarm, people["ann"], task.id, True)
    db.session.commit()
    assert message.pinned_at is not None
    assert (task.assignee.username, task.done) == ("bob", True)
    with pytest.raises(Forbidden, match="Join the swarm"):
        swarms.post_message(swarm, people["bob"], "Hello?")
    with pytest.raises(Invalid, match="cannot be empty"):
        swarms.post_message(swarm, people["ann"], "  ")
    with pytest.raises(Invalid, match="too long"):
        swarms.post_message(swarm, people["ann"], "x" * 4001)


def test_any_member_may_drop_in_but_viewers_only_watch(desk):
    _, card, people = desk
    swarm = start(card, people["ann"])
    swarms.join_swarm(swarm, people["bob"])
    db.session.commit()
    assert "bob" in {s.user.username for s in swarm.present()}
    with pytest.raises(Invalid, match="already in"):
        swarms.join_swarm(swarm, people["bob"])
    with pytest.raises(Forbidden):
        swarms.join_swarm(swarm, people["vic"])
    swarms.leave_swarm(swarm, people["bob"])
    db.session.commit()
    assert "bob" not in {s.user.username for s in swarm.present()}


def test_resolving_hands_the_card_over_and_releases_everyone(desk):
    board, card, people = desk
    swarm = start(card, people["ann"])
    swarms.join_swarm(swarm, people["bob"])
    swarms.resolve_swarm(swarm, people["ann"], continued_by="bob",
                         outcome="Relay-2 had a stale DNS cache", learned="Flush nscd first")
    db.session.commit()
    assert swarm.status == "resolved"
    assert card.owner.username == "bob"
    assert swarm.present() == []
    resolved = db.session.query(Event).filter_by(board_id=board.id, type="swarm.resolved").one()
    assert resolved.card_id == card.id
    assert resolved.data["outcome"] == "Relay-2 had a stale DNS cache"
    assert resolved.data["continued_by"] == "bob"
    with pytest.raises(Invalid, match="room is closed"):
        swarms.post_message(swarm, people["ann"], "one more thing")


def test_resolving_without_the_right_is_forbidden(desk):
    _, card, people = desk
    swarm = start(card, people["ann"])
    swarms.join_swarm(swarm, people["bob"])
    db.session.commit()
    with pytest.raises(Forbidden):
        swarms.resolve_swarm(swarm, people["bob"], continued_by=None, outcome="Done")
    with pytest.raises(Forbidden):
        swarms.cancel_swarm(swarm, people["bob"], reason="Bored")
    assert swarm.status == "open"


def test_the_one_who_continues_must_be_on_the_board(desk):
    _, card, people = desk
    swarm = start(card, people["ann"])
    with pytest.raises(Invalid, match="not a member"):
        swarms.resolve_swarm(swarm, people["ann"], continued_by="xena", outcome="Done")


def test_cancel_needs_a_reason_and_a_resolved_swarm_can_be_reopened(desk):
    _, card, people = desk
    swarm = start(card, people["ann"])
    with pytest.raises(Invalid, match="Reason cannot be empty"):
        swarms.cancel_swarm(swarm, people["ann"], reason="")
    swarms.resolve_swarm(swarm, people["ann"], continued_by=None, outcome="Fixed")
    db.session.commit()
    swarms.reopen_swarm(swarm, people["ann"])
    db.session.commit()
    assert swarm.status == "open"
    swarms.cancel_swarm(swarm, people["ann"], reason="Duplicate of SIM-9")
    db.session.commit()
    with pytest.raises(Invalid, match="Only a resolved swarm"):
        swarms.reopen_swarm(swarm, people["ann"])


def test_closing_a_card_with_an_open_swarm_asks_what_to_do(desk):
    _, card, people = desk
    swarm = start(card, people["ann"])
    with pytest.raises(Invalid, match="resolve it, cancel it or keep it"):
        swarms.end_swarm_with_card(card, people["ann"], None)
    swarms.end_swarm_with_card(card, people["ann"], "cancel")
    assert swarm.status == "cancelled"


def test_resolved_swarms_are_found_by_words_and_skills(desk):
    board, card, people = desk
    swarm = start(card, people["ann"], skills="postfix")
    swarms.resolve_swarm(swarm, people["ann"], continued_by=None,
                         outcome="The relay's DNS cache was stale", learned="Restarting nscd")
    other = make.card(board, people["ann"], "Printer offline in Lyon")
    second = start(other, people["ann"], help_needed="Printer drops off", skills="network",
                   tried="Power-cycled it")
    swarms.resolve_swarm(second, people["ann"], continued_by="ann", outcome="New switch port")
    db.session.commit()

    assert [f.swarm for f in search_swarms(people["ann"], "restart nscd")] == [swarm]
    assert [f.swarm for f in search_swarms(people["ann"], "", skills=["network"])] == [second]
    assert search_swarms(people["ann"], "kubernetes") == []
    assert search_swarms(people["out"], "relay") == []  # not on the board: sees nothing

    third = make.card(board, people["ann"], "Mail relay queue growing again")
    fresh = start(third, people["ann"], help_needed="Relay queue growing", skills="postfix")
    assert [f.swarm for f in similar_swarms(fresh, people["ann"])][:1] == [swarm]


def test_swarm_counts_give_each_card_its_badge(desk):
    board, card, people = desk
    swarm = start(card, people["ann"])
    swarms.join_swarm(swarm, people["bob"])
    db.session.commit()
    assert swarms.swarm_counts(board.id) == {card.id: 2}


def test_skills_are_kept_in_lower_case(desk):
    _, _, people = desk
    set_skill(people["bob"], "Postfix", 4)
    db.session.commit()
    assert [(s.skill, s.level) for s in people["bob"].skills] == [("postfix", 4)]


def test_finishing_a_card_with_an_open_swarm_asks_what_becomes_of_it(desk):
    from app.cards.moves import move_card
    from app.errors import SwarmStillOpen

    board, card, people = desk
    swarm = start(card, people["ann"])
    done = make.column(board, "Done")
    with pytest.raises(SwarmStillOpen, match="resolve it, cancel it or keep it"):
        move_card(card, people["ann"], column=done)
    db.session.rollback()
    assert card.column.name != "Done" and swarm.status == "open"
    move_card(card, people["ann"], column=done, swarm="resolve")
    db.session.commit()
    assert (card.column.name, swarm.status, swarm.continued_by.username) == ("Done", "resolved",
                                                                              "ann")


def test_archiving_a_card_with_an_open_swarm_can_keep_or_cancel_it(desk, client, login):
    from app.cards.services import archive_card
    from app.errors import SwarmStillOpen

    board, card, people = desk
    swarm = start(card, people["ann"])
    login("ann")
    asked = client.post(f"/cards/{card.key}/archive", headers={"HX-Request": "true"})
    assert asked.status_code == 422
    page = asked.get_data(as_text=True)
    assert "has an open swarm" in page and 'value="cancel"' in page
    db.session.expire_all()
    assert card.archived_at is None
    archived = client.post(f"/cards/{card.key}/archive", data={"swarm": "cancel"},
                           headers={"HX-Request": "true"})
    assert archived.status_code == 200
    db.session.expire_all()
    assert card.archived_at is not None and swarm.status == "cancelled"
    other = make.card(board, people["ann"], "Another")
    kept = start(other, people["ann"])
    with pytest.raises(SwarmStillOpen):
        archive_card(other, people["ann"])
    db.session.rollback()
    archive_card(other, people["ann"], swarm="keep")
    db.session.commit()
    assert kept.status == "open"
