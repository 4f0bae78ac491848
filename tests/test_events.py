"""The event log: one row per change, in the same transaction, numbered without gaps."""

import pytest
from sqlalchemy import select

from app.cards.moves import move_card
from app.cards.services import block_card, unblock_card, update_card
from app.errors import Invalid
from app.events.models import Event
from app.events.services import events_since
from app.extensions import db
from tests import factories as make


def test_every_change_appends_an_event_with_the_next_sequence_number(app):
    ann = make.user("ann")
    board = make.board(ann, "simple", key="EVT")
    card = make.card(board, ann, "Printer on fire")
    update_card(card, ann, title="Printer on fire, 3rd floor")
    move_card(card, ann, column=make.column(board, "Doing"))
    block_card(card, ann, "Waiting for vendor")
    unblock_card(card, ann)
    db.session.commit()

    events = db.session.scalars(
        select(Event).where(Event.board_id == board.id).order_by(Event.seq)
    ).all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events] == [
        "board.created",
        "card.created",
        "card.updated",
        "card.moved",
        "card.blocked",
        "card.unblocked",
    ]
    assert events[3].data["from_column_name"] == "To do"
    assert events[3].data["to_column_name"] == "Doing"
    assert events[2].data["changes"]["title"] == ["Printer on fire", "Printer on fire, 3rd floor"]
    assert events[5].data["reason"] == "Waiting for vendor"
    assert board.last_seq == events[-1].seq


def test_a_refused_command_leaves_no_event_and_no_gap(app):
    ann = make.user("ann")
    board = make.board(ann, "simple", key="GAP")
    card = make.card(board, ann)
    with pytest.raises(Invalid):
        block_card(card, ann, "   ")
    db.session.rollback()
    block_card(card, ann, "real reason")
    db.session.commit()
    seqs = [e.seq for e in events_since(board, 0)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_events_since_returns_only_later_events_in_order(app):
    ann = make.user("ann")
    board = make.board(ann, "simple", key="SNC")
    for title in ("a", "b", "c"):
        make.card(board, ann, title)
    later = events_since(board, 2)
    assert [e.seq for e in later] == [3, 4]
