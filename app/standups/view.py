"""What the stand-up strip shows: one fragment for the board page, the wall, and every push."""

from flask import render_template

from app.boards.models import Board
from app.cards.models import Card
from app.clock import utcnow
from app.database import kept_for_transaction
from app.extensions import db
from app.metrics.flow import service_level_expectation
from app.standups.models import Standup
from app.standups.services import NORM_MINUTES, running_standup, updates_for
from app.standups.walk import walk_rank


def bar_context(board: Board, standup: Standup | None = None) -> dict:
    """What the strip shows. A request draws it twice, as its answer and in the push to every
    other view, both at the same point of the board's log: the second reuses the first's
    reading (`standup`, when given, is the board's running stand-up)."""
    kept = kept_for_transaction(db.session, "standup_bar")
    key = (board.id, board.last_seq)
    if key not in kept:
        kept[key] = _read_bar(board, standup)
    return kept[key]


def _read_bar(board: Board, standup: Standup | None) -> dict:
    now = utcnow()
    standup = standup if standup is not None else running_standup(board)
    if standup is None or standup.ended_at is not None:
        return {"board": board, "standup": None, "now": now}
    card = standup.focus_card
    update = updates_for(board).get(card.owner_id) if card is not None and card.owner_id else None
    return {
        "board": board,
        "standup": standup,
        "now": now,
        "card": card,
        "update": update,
        "position": standup.position,
        "total": len(standup.walk),
        "attendees": [a.user.username for a in standup.attendees],
        "norm_minutes": NORM_MINUTES,
        "sle": service_level_expectation(board.id, now),
        "next_card": _card_at(standup, (standup.position or 0) + 1)
        if standup.position is not None else None,
    }


def _card_at(standup: Standup, index: int) -> Card | None:
    if 0 <= index < len(standup.walk):
        return db.session.get(Card, standup.walk[index])
    return None


def standup_bar(board: Board, *, oob: bool = False, standup: Standup | None = None) -> str:
    return render_template("standups/_bar.html", oob=oob, **bar_context(board, standup))


__all__ = ["bar_context", "standup_bar", "walk_rank"]
