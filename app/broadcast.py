"""Sending to a Socket.IO room: one process, or every process through the message queue.
Shared by the live board, swarm rooms and wall displays."""

from engineio.exceptions import SocketIsClosedError
from flask import current_app

from app.extensions import socketio


def room(board_key: str) -> str:
    """The room of a board's live views."""
    return f"board:{board_key}"


def emit_to_room(event: str, message: dict, to: str, skip_sid=None) -> None:
    """Send to everyone in a room. In threading mode a viewer's socket can close between the
    room lookup and the send; that must not fail the request or join that is sending (the
    room's other views notice the gap on their next event and catch up)."""
    try:
        socketio.emit(event, message, to=to, skip_sid=skip_sid)
    except SocketIsClosedError:
        current_app.logger.info("A viewer of %s left during a broadcast", to)
