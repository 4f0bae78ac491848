"""The inbox: who hears of what (invitations, mentions, andon pulls, changes to cards people own
or watch), written with the change itself, never to whoever made it."""

from sqlalchemy import select

from app.cards.moves import move_card
from app.cards.services import add_comment, block_card, update_card
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.services import (
    inbox,
    mark_all_read,
    mentioned,
    unread_count,
    watch,
)
from app.swarms import services as swarms
from app.swarms.andon import pull_andon
from tests import factories as make


def texts(user) -> list[str]:
    db.session.expire_all()
    return [n.text for n in reversed(inbox(user))]


def kinds(user) -> list[str]:
    return [n.kind for n in reversed(inbox(user))]


def test_mentions_are_found_as_people_write_them():
    assert mentioned("@bob can you look? cc @Ann, @ann and me@mail.example @carol.") == [
        "bob", "ann", "carol"]
    assert mentioned("no one here, not even email@host.org or @") == []


def test_the_owner_hears_of_changes_to_their_card_but_not_of_their_own(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer on floor 3", owner="bob")
    move_card(card, ann, column=make.column(board, "Doing"))
    db.session.commit()
    block_card(card, bob, "Waiting for toner")  # bob's own change: nothing for bob
    db.session.commit()
    assert texts(bob) == ["ann created it in To do", "ann moved it To do → Doing"]
    assert kinds(bob) == ["change", "change"]
    assert texts(ann) == []  # ann owns nothing and watches nothing


def test_a_rolled_back_change_leaves_no_notification(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer on floor 3", owner="bob")
    before = len(texts(bob))
    move_card(card, ann, column=make.column(board, "Doing"))
    db.session.rollback()
    assert len(texts(bob)) == before


def test_watchers_of_a_card_a_column_or_the_board_hear_of_it(simple):
    board, ann, bob = simple
    carol, dan, erin = make.user("carol"), make.user("dan"), make.user("erin")
    for person in (carol, dan, erin):
        make.member(board, person)
    card = make.card(board, ann, "VPN drops")
    watch(carol, board, card=card)
    watch(dan, board, column=make.column(board, "Done"))
    watch(erin, board)
    db.session.commit()
    update_card(card, ann, title="VPN drops every hour")
    db.session.commit()
    assert [len(texts(p)) for p in (carol, dan, erin)] == [1, 0, 1]
    move_card(card, ann, column=make.column(board, "Done"))
    db.session.commit()
    assert [len(texts(p)) for p in (carol, dan, erin)] == [2, 1, 2]
    assert texts(dan) == [texts(carol)[-1]]


def test_a_mention_tells_the_person_named_and_counts_as_unread(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Disk full on db-1")
    add_comment(card, ann, "@bob could you take a look at the **volume**? thanks")
    db.session.commit()
    [note] = inbox(bob)
    assert note.kind == "mention" and note.url == f"/cards/{card.key}"
    assert note.text.startswith("ann mentioned you in a comment: “@bob could you take a look")
    assert unread_count(bob) == 1
    assert mark_all_read(bob) == 1 and unread_count(bob) == 0


def test_someone_not_on_the_board_is_not_told_even_when_mentioned(simple):
    board, ann, _ = simple
    outsider = make.user("olga")
    card = make.card(board, ann, "Disk full on db-1")
    add_comment(card, ann, "@olga knows this one")
    db.session.commit()
    assert texts(outsider) == []


def test_andon_pulls_reach_every_member_of_the_board(simple):
    board, ann, bob = simple
    carol = make.user("carol")
    make.member(board, carol, role="viewer")
    card = make.card(board, bob, "Checkout down")
    pull_andon(card, bob, "Payments failing for everyone")
    db.session.commit()
    assert kinds(ann) == ["andon"] and kinds(carol) == ["andon"] and kinds(bob) == []
    assert texts(ann) == ["bob pulled the andon cord: Payments failing for everyone"]


def test_an_invitation_is_one_notification_with_the_invitation_to_answer(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Certificate expired", owner="bob")
    swarm = swarms.start_swarm(card, ann, type="backlog", help_needed="Renew it today")
    invitation = swarms.invite(swarm, ann, "bob")
    db.session.commit()
    notes = db.session.scalars(select(Notification).where(
        Notification.user_id == bob.id, Notification.kind == "invitation")).all()
    assert len(notes) == 1 and notes[0].invitation_id == invitation.id
    assert notes[0].text == "ann invited you to the swarm: Renew it today"
