"""The event log's subscription point (app/events/hooks.py): a feature hears of every change in
its transaction and again once it is committed, never of a change that was rolled back, and may
refuse a change while it is being made."""

from contextlib import contextmanager

import pytest
from sqlalchemy import select, text

from app.cards.models import Card
from app.cards.moves import move_card
from app.cards.services import archive_card, block_card, get_card
from app.errors import Invalid
from app.events import hooks
from app.events.models import Event
from app.extensions import db
from app.swarms import services as swarms
from tests import factories as make


@contextmanager
def listening(signal, receiver=None):
    """Everything `signal` sends while the block runs, as (sender, keywords) pairs."""
    heard = []

    def hear(sender, **told):
        heard.append((sender, told))
        if receiver is not None:
            receiver(sender, **told)

    signal.connect(hear)
    try:
        yield heard
    finally:
        signal.disconnect(hear)


@pytest.fixture
def desk(app):
    ann = make.user("ann")
    board = make.board(ann, "simple", key="HKS")
    card = make.card(board, ann, "Backup job failing")
    return board, card, ann


def stored_column(card_id: int) -> str:
    """The card's column as another connection reads it: what is committed, nothing else."""
    with db.engine.connect() as other:
        return other.execute(text(
            "SELECT board_columns.name FROM cards JOIN board_columns "
            "ON board_columns.id = cards.column_id WHERE cards.id = :card"), {"card": card_id}
        ).scalar_one()


def test_after_commit_a_subscriber_hears_the_transactions_events_in_order_once_stored(desk):
    board, card, ann = desk
    card_id, seen_stored = card.id, []
    with listening(hooks.committed,
                   lambda session, batch: seen_stored.append(stored_column(card_id))) as heard:
        move_card(card, ann, column=make.column(board, "Doing"))
        block_card(card, ann, "Waiting for the storage team")
        assert heard == []  # nothing is told before the commit
        db.session.commit()

    assert len(heard) == 1
    events = [(b.key, e.type, e.seq) for b, e in heard[0][1]["batch"].events]
    assert events == [("HKS", "card.moved", board.last_seq - 1),
                      ("HKS", "card.blocked", board.last_seq)]
    assert seen_stored == ["Doing"]  # by then another connection reads the move


def test_a_change_rolled_back_is_never_told_after_commit(desk):
    board, card, ann = desk
    card_id, card_key = card.id, card.key
    with listening(hooks.committed) as heard:
        move_card(card, ann, column=make.column(board, "Doing"))
        db.session.rollback()
        db.session.commit()  # a later commit does not carry the rolled-back event
        block_card(get_card(card_key, ann), ann, "Vendor ticket open")
        db.session.commit()

    assert [[e.type for _b, e in told["batch"].events] for _s, told in heard] == [
        ["card.blocked"]
    ]
    assert stored_column(card_id) == "To do"


def test_a_subscriber_in_the_transaction_can_refuse_the_whole_change(desk):
    board, card, ann = desk

    def no_blocking_on_fridays(board, *, event, session, decisions):
        if event.type == "card.blocked":
            raise Invalid("No blocking today.")

    with listening(hooks.recorded, no_blocking_on_fridays), \
            listening(hooks.committed) as after:
        with pytest.raises(Invalid, match="No blocking today"):
            block_card(card, ann, "Waiting for the storage team")
        db.session.rollback()

    card = db.session.get(Card, card.id)
    assert not card.blocked
    assert db.session.scalars(select(Event.type).where(Event.board_id == board.id)).all() == [
        "board.created", "card.created"]
    assert after == []


def test_what_a_subscriber_prepares_in_the_transaction_reaches_it_after_the_commit(desk):
    board, card, ann = desk

    def prepare(session, *, batch):
        # Still in the transaction: the session reads what it wrote.
        titles = [session.get(Card, e.card_id).title for _b, e in batch.events]
        batch.kept["titles"] = titles

    with listening(hooks.committing, prepare), listening(hooks.committed) as after:
        block_card(card, ann, "Waiting for the storage team")
        db.session.commit()

    assert after[0][1]["batch"].kept["titles"] == ["Backup job failing"]


def test_the_person_s_decisions_reach_subscribers_without_being_stored(desk):
    board, card, ann = desk
    swarm = swarms.start_swarm(card, ann, type="backlog", help_needed="Jobs fail at 02:00",
                               tried="Reran the job", skills="backup")
    db.session.commit()
    with listening(hooks.recorded) as heard:
        archive_card(card, ann, swarm="cancel")
        db.session.commit()

    archived = next(told for _b, told in heard if told["event"].type == "card.archived")
    assert archived["decisions"] == {"swarm": "cancel"}
    assert "swarm" not in archived["event"].data
    assert db.session.get(type(swarm), swarm.id).status == "cancelled"


def test_muted_writes_hold_the_rules_but_are_not_announced(desk):
    board, card, ann = desk
    with listening(hooks.recorded) as during, listening(hooks.committed) as after:
        with hooks.muted(db.session):
            block_card(card, ann, "Seeded history")
        db.session.commit()

    assert [told["event"].type for _b, told in during] == ["card.blocked"]
    assert after == []


def test_a_subscriber_failing_after_the_commit_leaves_the_change_and_the_others_told(desk, caplog):
    board, card, ann = desk
    card_id = card.id

    def broken(session, *, batch):
        raise RuntimeError("the chat server is down")

    with listening(hooks.committed, broken), listening(hooks.committed) as others:
        move_card(card, ann, column=make.column(board, "Doing"))
        db.session.commit()

    assert stored_column(card_id) == "Doing"
    assert len(others) == 1
    assert "A subscriber failed after a commit" in caplog.text
