"""Reminders: due tomorrow (in the board's time zone), past the SLE, an invitation waiting for an
answer. Each is sent once, to the card's owner or the invitee, through the inbox."""

from datetime import datetime, timedelta

from sqlalchemy import select

from app.boards.services import update_board
from app.cards.moves import move_card
from app.cards.services import update_card
from app.clock import utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.reminders import remind_due
from app.swarms import services as swarms
from tests import factories as make

NOON = datetime(2026, 12, 6, 12, 0)


def reminders(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.kind == "reminder")
        .order_by(Notification.id)))


def test_a_card_due_tomorrow_reminds_its_owner_once(simple):
    board, ann, bob = simple
    make.card(board, ann, "Renew the certificate", owner="bob", due_date="2026-12-07")
    make.card(board, ann, "Later", owner="bob", due_date="2026-12-09")
    make.card(board, ann, "Nobody's", due_date="2026-12-07")
    assert remind_due(NOON) == {bob.id}
    db.session.commit()
    assert remind_due(NOON + timedelta(hours=1)) == set()  # once
    db.session.commit()
    [reminder] = reminders(bob)
    assert reminder.text == "Due tomorrow (2026-12-07), in To do"


def test_tomorrow_is_the_boards_tomorrow(simple):
    board, ann, bob = simple
    update_board(board, ann, timezone="Pacific/Auckland")  # 12:00 UTC is 01:00 on the 7th
    make.card(board, ann, "Due on the 7th", owner="bob", due_date="2026-12-07")
    make.card(board, ann, "Due on the 8th", owner="bob", due_date="2026-12-08")
    remind_due(NOON)
    db.session.commit()
    assert [r.text for r in reminders(bob)] == ["Due tomorrow (2026-12-08), in To do"]


def test_a_card_past_the_boards_sle_reminds_its_owner(simple):
    board, ann, bob = simple
    doing, done = make.column(board, "Doing"), make.column(board, "Done")
    start = NOON - timedelta(days=30)
    for number in range(5):  # five finishes, each a day: the SLE is 1 day
        card = make.card(board, ann, f"Done {number}", at=start)
        move_card(card, ann, column=doing, at=start + timedelta(days=number))
        move_card(card, ann, column=done, at=start + timedelta(days=number + 1))
    late = make.card(board, ann, "Slow one", owner="bob", at=NOON - timedelta(days=3))
    quick = make.card(board, ann, "Fresh one", owner="bob", at=NOON - timedelta(hours=2))
    move_card(late, ann, column=doing, at=NOON - timedelta(days=3))
    move_card(quick, ann, column=doing, at=NOON - timedelta(hours=2))
    db.session.commit()
    remind_due(NOON)
    db.session.commit()
    [reminder] = reminders(bob)
    assert reminder.card_id == late.id
    assert reminder.text == ("Past the SLE: in progress 3.0 days; 85% of this board's cards "
                             "finish within 1.0")


def test_an_unanswered_invitation_reminds_the_invitee_once(simple, app):
    board, ann, bob = simple
    card = make.card(board, ann, "Mail queue stuck")
    swarm = swarms.start_swarm(card, ann, type="backlog", help_needed="Relay-2 keeps mail",
                               at=NOON - timedelta(minutes=30))
    invitation = swarms.invite(swarm, ann, "bob", at=NOON - timedelta(minutes=15))
    db.session.commit()
    assert remind_due(NOON - timedelta(minutes=10)) == set()  # 5 minutes: not yet
    assert remind_due(NOON) == {bob.id}
    db.session.commit()
    [reminder] = reminders(bob)
    assert reminder.invitation_id == invitation.id
    assert reminder.text == ("ann's invitation to the swarm is waiting for your answer (15 min): "
                             "Relay-2 keeps mail")
    assert remind_due(NOON + timedelta(minutes=5)) == set()


def test_the_background_runner_writes_reminders(simple, runner):
    board, ann, bob = simple
    tomorrow = utcnow().date() + timedelta(days=1)
    card = make.card(board, ann, "Renew the certificate", due_date=tomorrow.isoformat())
    update_card(card, ann, owner="bob")
    db.session.commit()
    result = runner.invoke(args=["deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert [r.card_id for r in reminders(bob)] == [card.id]
