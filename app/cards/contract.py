"""The event log as the API, the catch-up and the socket contract give it: events with the keys
of their cards (docs/events.md)."""

from sqlalchemy import select
from sqlalchemy.orm.util import identity_key

from app.boards.models import Board
from app.cards.models import Card
from app.events.models import Event
from app.events.services import event_as_dict
from app.extensions import db


def events_as_dicts(board: Board, events: list[Event]) -> list[dict]:
    """Events as the API and the socket contract give them, with card keys (one query)."""
    numbers, missing = {}, set()
    for card_id in {event.card_id for event in events if event.card_id}:
        card = db.session.identity_map.get(identity_key(Card, card_id))
        if card is not None:  # a push's cards are in the session already
            numbers[card_id] = card.number
        else:
            missing.add(card_id)
    if missing:
        numbers.update(
            db.session.execute(select(Card.id, Card.number).where(Card.id.in_(missing))).all()
        )
    return [
        event_as_dict(e, board.key, f"{board.key}-{numbers[e.card_id]}" if e.card_id else None)
        for e in events
    ]
