"""The append-only event log: every change to a board is one row, numbered per board."""

from datetime import datetime

from sqlalchemy import bindparam, column, select, table
from sqlalchemy.orm.attributes import set_committed_value

from app.clock import utcnow
from app.database import rows
from app.events.hooks import tell_recorded
from app.events.models import Event
from app.extensions import db

EVENTS_PAGE = 500
# An event is written by two plain statements rather than through the ORM's unit of work, which
# spent about 0.3 ms of a 3.4 ms move flushing the event row and the board's new number.
_EVENT_COLUMNS = [column.key for column in Event.__table__.c if column.key != "id"]
_INSERT_EVENT = Event.__table__.insert()
# The board's last number is kept on its row; the log needs that column only, not the model.
_boards = table("boards", column("id"), column("last_seq"))
_NUMBER_BOARD = (
    _boards.update().where(_boards.c.id == bindparam("board")).values(last_seq=bindparam("seq"))
)


def record_event(
    board,
    type: str,
    *,
    actor=None,
    card=None,
    at: datetime | None = None,
    from_column=None,
    to_column=None,
    from_lane=None,
    to_lane=None,
    decisions: dict | None = None,
    **data,
) -> Event:
    """Append an event with the board's next sequence number (caller holds the board's lock,
    app.boards.access.lock_board), and tell the subscribers (app/events/hooks.py).

    The row is written at once, in the caller's transaction (so it goes if that rolls back);
    the Event returned is that row, for this transaction's push, outside the session.
    `decisions` are what the person said for the subscribers that the event does not store
    (what becomes of a finished card's open swarm)."""
    seq = board.last_seq + 1
    event = Event(
        board_id=board.id,
        seq=seq,
        type=type,
        at=at or utcnow(),
        actor_id=actor.id if actor is not None else None,
        card_id=card.id if card is not None else None,
        from_column_id=from_column.id if from_column is not None else None,
        to_column_id=to_column.id if to_column is not None else None,
        from_lane_id=from_lane.id if from_lane is not None else None,
        to_lane_id=to_lane.id if to_lane is not None else None,
        data=data,
        actor=actor,
    )
    values = {key: getattr(event, key) for key in _EVENT_COLUMNS}
    event.id = rows(db.session, _INSERT_EVENT, values).inserted_primary_key[0]
    rows(db.session, _NUMBER_BOARD, {"board": board.id, "seq": seq})
    set_committed_value(board, "last_seq", seq)  # as stored: nothing left for a flush to write
    tell_recorded(db.session, board, event, decisions or {})
    return event


def events_since(board, seq: int, limit: int = EVENTS_PAGE) -> list[Event]:
    """Events after `seq`, in order, at most `limit` of them."""
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.board_id == board.id, Event.seq > seq)
            .order_by(Event.seq)
            .limit(limit)
        )
    )


def card_history(card) -> list[Event]:
    return list(
        db.session.scalars(select(Event).where(Event.card_id == card.id).order_by(Event.seq))
    )


def event_as_dict(event: Event, board_key: str, card_key: str | None = None) -> dict:
    return {
        "board": board_key,
        "seq": event.seq,
        "type": event.type,
        "at": event.at.isoformat() + "Z",
        "actor": event.actor.username if event.actor else None,
        "card": card_key,
        "from_column": event.from_column_id,
        "to_column": event.to_column_id,
        "from_lane": event.from_lane_id,
        "to_lane": event.to_lane_id,
        "data": event.data,
    }
