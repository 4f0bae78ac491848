"""A retrospective's Socket.IO events: `retro_join` its room (permission checked as for its
page), `retro_leave` it; the room then receives `retro_event`s (app/retros/live.py). Refusals
answer `{"ok": false, "error": sentence}` like the board's `join`."""

from flask_socketio import join_room, leave_room

from app.errors import DomainError, Invalid
from app.extensions import socketio
from app.realtime.sockets import refuse, socket_user
from app.retros.live import retro_room
from app.retros.services import get_retro


def retro_id_in(data) -> int:
    retro_id = data.get("retro") if isinstance(data, dict) else None
    if isinstance(retro_id, bool) or not isinstance(retro_id, int) or retro_id < 1:
        raise Invalid('This event needs a payload like {"retro": <retrospective id>}.')
    return retro_id


@socketio.on("retro_join")
def on_retro_join(data=None):
    """Watch a retrospective: anyone who may see its board."""
    user = socket_user()
    try:
        if user is None:
            raise Invalid("Retrospectives need a logged-in person or an API token.")
        retro = get_retro(retro_id_in(data), user)
    except DomainError as error:
        return refuse(error.message)
    join_room(retro_room(retro.id))
    return {"ok": True, "seq": retro.board.last_seq, "phase": retro.phase}


@socketio.on("retro_leave")
def on_retro_leave(data=None):
    try:
        retro_id = retro_id_in(data)
    except DomainError as error:
        return refuse(error.message)
    leave_room(retro_room(retro_id))
    return {"ok": True}
