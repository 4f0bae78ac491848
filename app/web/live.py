"""Catch-up over HTTP: what a view missed since a sequence number, as the same fragments a push
carries. Used after a reconnect (JSON, as the socket's messages) and, when no socket can
connect, by HTMX polling (the fragments themselves, the sequence number in a header)."""

import json

from flask import Blueprint, request
from flask_login import current_user, login_required

from app.boards.access import get_board
from app.errors import Invalid
from app.events.services import events_since
from app.extensions import htmx
from app.realtime.payloads import board_messages

bp = Blueprint("realtime", __name__)

CATCH_UP_LIMIT = 200  # past this many events a view re-fetches the whole board instead


@bp.get("/boards/<key>/live")
@login_required
def catch_up(key: str):
    return catch_up_answer(get_board(key, current_user))


def catch_up_answer(board):
    """What a view of `board` missed since `?since=` (the wall's catch-up answers the same)."""
    raw = request.args.get("since", "")
    if not raw.isdigit():
        raise Invalid('"since" must be a sequence number (a whole number, 0 or more).')
    since = int(raw)
    latest = board.last_seq
    too_far = {"board": board.key, "seq": latest, "refresh": True, "events": []}
    if since > latest:
        return polled(too_far) if htmx else too_far
    events = events_since(board, since, limit=CATCH_UP_LIMIT + 1)
    if len(events) > CATCH_UP_LIMIT:
        return polled(too_far) if htmx else too_far
    messages = board_messages(board, events)
    last = messages[-1] if messages else {}
    update = {
        "board": board.key,
        "seq": messages[-1]["seq"] if messages else since,
        "html": last.get("html", ""),
        "refresh": bool(last.get("refresh")),
        "events": messages,
    }
    return polled(update) if htmx else update


def polled(update: dict):
    """The answer to an HTMX poll: out-of-band fragments htmx applies itself; the page reads
    the sequence number they bring it to (or that it must re-fetch the board) from a header."""
    caught_up = {"seq": update["seq"], "refresh": update["refresh"]}
    return update.get("html", ""), 200, {"HX-Trigger-After-Swap": json.dumps(
        {"board-caught-up": caught_up})}
