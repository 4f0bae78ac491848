"""The Socket.IO contract: connect (session or API token), `join` a board, receive
`board_event`s; `catch_up`, `leave` and `editing`. Permissions are checked on connect and on
every join; bad input gets an `error` event (and a refusing acknowledgement), and a socket that
keeps sending it is disconnected. Everyone else is served as before."""

from urllib.parse import urlsplit

from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room, leave_room

from app.accounts.models import User
from app.accounts.services import user_for_token
from app.boards.access import get_board
from app.broadcast import emit_to_room, room
from app.cards.contract import events_as_dicts
from app.cards.services import get_card
from app.errors import DomainError, Invalid
from app.events.services import EVENTS_PAGE, events_since
from app.extensions import db, socketio
from app.swarms.live import user_room
from app.wall.services import live_link, wall_board, wall_for_token, wall_person, wall_room

USER_KEY = "sb_socket_user"
WALL_KEY = "sb_socket_wall"
MAX_ERRORS = 20
_errors: dict[str, int] = {}


def presence():
    return current_app.extensions["sb_presence"]


def socket_user() -> User | None:
    """The socket's person, while they are active (a deactivated person's socket is refused
    from their next event on, besides being disconnected)."""
    user_id = session.get(USER_KEY)
    user = db.session.get(User, user_id) if user_id else None
    return user if user is not None and user.is_active else None


def refuse(message: str) -> dict:
    """Tell the socket what was wrong; disconnect one that keeps at it."""
    sid = request.sid
    _errors[sid] = _errors.get(sid, 0) + 1
    emit("error", {"error": message})
    if _errors[sid] > MAX_ERRORS:
        disconnect()
    return {"ok": False, "error": message}


def socket_board(key: str, user: User | None):
    """The board a socket asks for: a member's, or one its wall link shows (while the link
    stands)."""
    if WALL_KEY in session:
        return wall_board(live_link(session[WALL_KEY]), key)
    return get_board(key, user)


def board_key_in(data) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("board"), str) or not data["board"]:
        raise Invalid('This event needs a payload like {"board": "<KEY>"}.')
    return data["board"].upper()


def person(user: User) -> dict:
    return {"username": user.username, "name": user.display_name, "initials": user.initials}


def announce_presence(board_key: str, to: str | None = None) -> None:
    """Who is looking, to the board's room (or to one socket only)."""
    message = {"board": board_key, "viewers": presence().viewers(board_key)}
    if to:
        emit("presence", message, to=to)
    else:
        emit_to_room("presence", message, room(board_key))


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def foreign_origin() -> str | None:
    """The Origin a browser sent, when it is not Swarmboard's own (the address this request
    came to, PUBLIC_URL, or one of SOCKETIO_ALLOWED_ORIGINS); None for ours, or for a client
    that sends none (scripts and bots, which carry a token rather than a login)."""
    origin = request.headers.get("Origin")
    if not origin:
        return None
    allowed = {_origin_of(request.host_url), _origin_of(current_app.config["PUBLIC_URL"]),
               *(_origin_of(o) for o in current_app.config["SOCKETIO_ALLOWED_ORIGINS"])}
    return None if _origin_of(origin) in allowed else origin[:200]


@socketio.on("connect")
def on_connect(auth=None):
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(auth, dict) and "wall" in auth:
        # A wall display: no user, only the boards of its link (checked again on every join).
        try:
            link = wall_for_token(auth["wall"])
        except DomainError as error:
            raise ConnectionRefusedError(error.message) from None
        session[WALL_KEY] = link.id
        join_room(wall_room(link.id))
        return
    if token:
        user = user_for_token(token, read_only=True) if isinstance(token, str) else None
        if user is None:
            raise ConnectionRefusedError("That API token is not valid.")
    elif current_user.is_authenticated:
        if origin := foreign_origin():
            # Cross-site WebSocket hijacking: another site's page would ride this login.
            raise ConnectionRefusedError(
                f"A page from {origin} may not use a Swarmboard login; connect from "
                f"Swarmboard's own pages, or with an API token.")
        user = current_user._get_current_object()
    else:
        raise ConnectionRefusedError("Log in, or connect with auth={'token': '<API token>'}.")
    session[USER_KEY] = user.id
    join_room(user_room(user.id))  # their own notifications (swarm invitations), on any page


@socketio.on("join")
def on_join(data=None):
    user = socket_user()
    try:
        board = socket_board(board_key_in(data), user)
    except DomainError as error:
        return refuse(error.message)
    join_room(room(board.key))
    # The room hears only of a new face; another screen of someone already here is news to
    # itself alone (so a thousand joins are not a thousand broadcasts to the room).
    someone = wall_person(live_link(session[WALL_KEY])) if WALL_KEY in session else person(user)
    newcomer = presence().join(board.key, request.sid, someone)
    announce_presence(board.key, to=None if newcomer else request.sid)
    return {"ok": True, "seq": board.last_seq}


@socketio.on("leave")
def on_leave(data=None):
    try:
        key = board_key_in(data)
    except DomainError as error:
        return refuse(error.message)
    leave_room(room(key))
    if presence().leave(key, request.sid):
        announce_presence(key)
    return {"ok": True}


@socketio.on("catch_up")
def on_catch_up(data=None):
    """The events after `since`, for a client that knows where it stopped."""
    user = socket_user()
    try:
        board = socket_board(board_key_in(data), user)
        since = data.get("since")
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise Invalid('"since" must be a sequence number (a whole number, 0 or more).')
        if since > board.last_seq:
            raise Invalid(f"Sequence number {since} is ahead of {board.key}'s latest, "
                          f"{board.last_seq}; reload the board.")
    except DomainError as error:
        return refuse(error.message)
    events = events_since(board, since)
    return {
        "ok": True,
        "seq": board.last_seq,
        "more": len(events) == EVENTS_PAGE,
        "events": events_as_dicts(board, events),
    }


@socketio.on("editing")
def on_editing(data=None):
    """Someone opened (or closed) a card for editing: the board's other views show it."""
    user = socket_user()
    if not isinstance(data, dict) or not isinstance(data.get("card"), str):
        return refuse('"editing" needs {"card": "<CARD KEY>", "editing": true|false}.')
    try:
        card = get_card(data["card"], user)
    except DomainError as error:
        return refuse(error.message)
    emit(
        "editing",
        {"board": card.board.key, "card": card.key, "editing": bool(data.get("editing")),
         **person(user)},
        to=room(card.board.key),
        include_self=False,
    )
    return {"ok": True}


@socketio.on("disconnect")
def on_disconnect(*_reason):
    _errors.pop(request.sid, None)
    for key in presence().boards_of(request.sid):
        if presence().leave(key, request.sid):
            announce_presence(key)


@socketio.on("*")
def on_unknown(event, *_args):
    return refuse(f"Unknown event {event!r}; see docs/events.md for the event contract.")
