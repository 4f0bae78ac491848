"""Push after commit. Events recorded in a transaction are rendered just before it commits and
broadcast to their board's room once it has; a rollback drops them, so no view ever sees a
change that did not happen. Works the same in one process or, through Redis, in several."""

from contextlib import contextmanager, nullcontext

from engineio.exceptions import SocketIsClosedError
from flask import current_app, has_request_context, request
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.extensions import socketio

PENDING = "sb_pending_events"
READY = "sb_ready_pushes"
SKIP = "sb_push_skip_sid"
MUTED = "sb_pushes_muted"


def room(board_key: str) -> str:
    return f"board:{board_key}"


def emit_to_room(event: str, message: dict, board_room: str, skip_sid=None) -> None:
    """Send to everyone in a board's room. In threading mode a viewer's socket can close between
    the room lookup and the send; that must not fail the request or join that is sending (the
    room's other views notice the gap on their next event and catch up)."""
    try:
        socketio.emit(event, message, to=board_room, skip_sid=skip_sid)
    except SocketIsClosedError:
        current_app.logger.info("A viewer of %s left during a broadcast", board_room)


def note_event(session: Session, board, event) -> None:
    """Called by record_event: remember the event for this transaction's push."""
    if not session.info.get(MUTED):
        session.info.setdefault(PENDING, []).append((board, event))


@contextmanager
def muted(session: Session):
    """No pushes for bulk writes nobody watches (seeding the demo's history)."""
    session.info[MUTED] = True
    try:
        yield
    finally:
        session.info.pop(MUTED, None)
        session.info.pop(PENDING, None)


@sa_event.listens_for(Session, "before_commit")
def _render_pushes(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    from app.realtime.payloads import board_messages

    session.flush()
    by_board: dict[int, tuple] = {}
    for board, event in pending:
        by_board.setdefault(board.id, (board, []))[1].append(event)
    # Rendering needs a request for url_for; commands and scripts borrow a neutral one.
    context = nullcontext() if has_request_context() else current_app.test_request_context("/")
    ready = []
    with context:
        for board, events in by_board.values():
            events.sort(key=lambda e: e.seq)
            # HTML is rendered once per commit for all viewers, and only if there are any.
            watched = current_app.extensions["sb_presence"].watched(board.key)
            try:
                messages = board_messages(board, events, render=watched)
            except Exception:  # a push must never cost the change itself: views re-fetch
                current_app.logger.exception("Rendering the push for %s failed", board.key)
                messages = [{"board": board.key, "seq": events[-1].seq, "type": events[-1].type,
                             "refresh": True}]
            ready.append((room(board.key), messages))
    session.info[READY] = ready
    # A page whose request is answered with the board sends its socket id: its echo would only
    # race that answer (and steal the focus or undo a form reset the answer brings).
    session.info[SKIP] = request.headers.get("X-Socket-Id") if has_request_context() else None


@sa_event.listens_for(Session, "after_commit")
def _send_pushes(session: Session) -> None:
    skip = session.info.pop(SKIP, None)
    ready = session.info.pop(READY, [])
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


@sa_event.listens_for(Session, "after_rollback")
def _drop_pushes(session: Session) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(READY, None)
    session.info.pop(SKIP, None)
