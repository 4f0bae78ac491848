"""Columns and lanes are not removed from under their cards: the card services hear of a
removal on the event log (app/events/hooks.py) and refuse it, so the board services need not
know about cards."""

from sqlalchemy import func, select

from app.cards.models import Card
from app.errors import Invalid
from app.events import hooks


@hooks.recorded.connect
def _refuse_removing_occupied(board, *, event, session, decisions) -> None:
    if event.type == "column.removed":
        waiting = session.scalar(select(func.count(Card.id)).where(
            Card.column_id == event.from_column_id, Card.archived_at.is_(None)))
        if waiting:
            raise Invalid(f"Column {event.data['name']!r} still holds {waiting} card(s); move "
                          "them before deleting it.")
    elif event.type == "lane.removed":
        held = session.scalar(select(func.count(Card.id)).where(Card.lane_id == event.data["lane"]))
        if held:
            raise Invalid(f"Lane {event.data['name']!r} has held {held} card(s) (archived ones "
                          "count: their history needs it); move or keep them instead.")
