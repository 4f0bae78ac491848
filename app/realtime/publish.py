"""Push after commit, as a subscriber of the event log (app/events/hooks.py). Events recorded in
a transaction are rendered just before it commits and broadcast to their board's room once it
has; a rollback drops them, so no view ever sees a change that did not happen. Works the same in
one process or, through Redis, in several."""

from contextlib import nullcontext

from flask import current_app, has_request_context, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.broadcast import emit_to_room, room
from app.events import hooks
from app.extensions import socketio
from app.swarms.live import user_room

READY = "board_pushes"
SKIP = "board_push_skip_sid"


@hooks.committing.connect
def _render_pushes(session: Session, *, batch: hooks.Batch) -> None:
    from app.realtime.payloads import board_messages

    by_board: dict[int, tuple] = {}
    for board, event in batch.events:
        by_board.setdefault(board.id, (board, []))[1].append(event)
    # Rendering needs a request for url_for; commands and scripts borrow a neutral one.
    context = nullcontext() if has_request_context() else current_app.test_request_context("/")
    ready = []
    with context:
        for board, events in by_board.values():
            events.sort(key=lambda e: e.seq)
            # HTML is rendered once per commit for all viewers, and only if there are any.
            watched = _watched(board.key)
            try:
                messages = board_messages(board, events, render=watched)
            except DBAPIError:
                # The database went away mid-render: the commit cannot succeed either, so say
                # so (503) rather than swallow it and fail the commit in a stranger way.
                raise
            except Exception:  # a push must never cost the change itself: views re-fetch
                current_app.logger.exception("Rendering the push for %s failed", board.key)
                messages = [{"board": board.key, "seq": events[-1].seq, "type": events[-1].type,
                             "refresh": True}]
            ready.append((room(board.key), messages))
    batch.kept[READY] = ready
    # A page whose request is answered with the board sends its socket id: its echo would only
    # race that answer (and steal the focus or undo a form reset the answer brings).
    batch.kept[SKIP] = request.headers.get("X-Socket-Id") if has_request_context() else None


def _watched(board_key: str) -> bool:
    """Whether anyone views the board. Presence lives in Redis at scale: while Redis is away,
    render for whoever may look, rather than fail the change being committed (a soak run found
    moves answered 500 and not stored during a Redis restart)."""
    try:
        return current_app.extensions["sb_presence"].watched(board_key)
    except Exception:  # noqa: BLE001  (redis' errors, whichever; the change must go on)
        current_app.logger.warning("Presence unavailable; rendering the push for %s", board_key)
        return True


@hooks.committed.connect
def _send_pushes(session: Session, *, batch: hooks.Batch) -> None:
    skip = batch.kept.get(SKIP)
    ready = batch.kept.get(READY, [])
    for board_room, messages in ready:
        for message in messages:
            emit_to_room("board_event", message, board_room, skip_sid=skip)
            if message["type"] == "member.removed":
                evict(message["board"], message["data"]["user"])
    if ready:
        # Under gevent an emit only queues a message for each viewer's socket; the sockets'
        # writers run once this request waits on something. Yielding here lets them run now,
        # so every other screen is updated before, not after, the mover's answer is built and
        # sent (about a third of a millisecond a move; see bench/live.py).
        socketio.sleep(0)


def evict(board_key: str, username: str) -> None:
    """Someone removed from a board loses its live view at once: their sockets there are
    disconnected (in any process, through the message queue); rejoining is then refused."""
    presence = current_app.extensions["sb_presence"]
    for sid in presence.sids_of(board_key, username):
        presence.leave(board_key, sid)
        socketio.server.disconnect(sid, namespace="/")


def end_live_sessions(user, board_keys: list[str]) -> None:
    """Someone deactivated or logged out everywhere: every socket of theirs is told and
    disconnected at once, in any process (their boards' sockets through presence, which knows
    them all; this process's others through their personal room); their next connect is
    refused, as the session it carries no longer stands."""
    presence = current_app.extensions["sb_presence"]
    personal = user_room(user.id)
    socketio.emit("session_ended", {"message": "You were logged out."}, to=personal)
    sids = set()
    for key in board_keys:
        for sid in presence.sids_of(key, user.username):
            presence.leave(key, sid)
            sids.add(sid)
    sids.update(sid for sid, _ in socketio.server.manager.get_participants("/", personal))
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
