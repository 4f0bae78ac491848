"""The swarm room's Socket.IO events: `swarm_join` a room (permission checked as for its page),
`swarm_leave` it; the room then receives `swarm_event`s. Refusals answer `{"ok": false, "error":
sentence}` like the board's `join`."""

from flask_socketio import join_room, leave_room

from app.errors import DomainError, Invalid
from app.extensions import socketio
from app.realtime.sockets import refuse, socket_user
from app.swarms.live import swarm_room
from app.swarms.services import get_swarm


def swarm_id_in(data) -> int:
    swarm_id = data.get("swarm") if isinstance(data, dict) else None
    if isinstance(swarm_id, bool) or not isinstance(swarm_id, int) or swarm_id < 1:
        raise Invalid('This event needs a payload like {"swarm": <swarm id>}.')
    return swarm_id


@socketio.on("swarm_join")
def on_swarm_join(data=None):
    """Watch a swarm's room: anyone who may open its page (board people, invited experts)."""
    user = socket_user()
    try:
        if user is None:
            raise Invalid("Swarm rooms need a logged-in person or an API token.")
        swarm = get_swarm(swarm_id_in(data), user)
    except DomainError as error:
        return refuse(error.message)
    join_room(swarm_room(swarm.id))
    return {"ok": True, "seq": swarm.board.last_seq, "status": swarm.status}


@socketio.on("swarm_leave")
def on_swarm_leave(data=None):
    try:
        swarm_id = swarm_id_in(data)
    except DomainError as error:
        return refuse(error.message)
    leave_room(swarm_room(swarm_id))
    return {"ok": True}
