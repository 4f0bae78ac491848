"""Wall links: owners make, change and revoke them; a token opens a read-only wall of a board
(and, optionally, others it rotates through). Only the token's SHA-256 is kept.

Revoking (or changing) a link reaches the open wall at once: after the commit its sockets are
told (`wall_revoked` / `wall_changed`) and a revoked wall's sockets are disconnected.
"""

import secrets
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.board_view import BoardView, board_view
from app.boards.access import board_role, require_role
from app.boards.models import Board
from app.boards.services import active_columns, board_lanes
from app.broadcast import emit_to_room, room
from app.cards.models import Card
from app.clock import utcnow
from app.database import by_id
from app.errors import Invalid, NotFound
from app.extensions import db, socketio
from app.metrics.flow import service_level_expectation
from app.slos.budget import Budget
from app.slos.services import budgets_of
from app.swarms.andon import andon_cards
from app.tokens import digest
from app.validation import choice, clean_text
from app.wall.models import WallLink

TOKEN_PREFIX = "sbw_"
THEMES = ("dark", "light")
ROTATE_MIN, ROTATE_MAX, ROTATE_DEFAULT = 15, 3600, 60
ROTATE_BOARDS_MAX = 8
UNKNOWN = "This wall link is unknown or has been revoked."
NOTICES = "sb_wall_notices"  # (event, link id, board keys) to send once the commit is done


def wall_room(link_id: int) -> str:
    return f"wall:{link_id}"


def wall_person(link: WallLink) -> dict:
    """How a wall shows in the board's presence list."""
    return {"username": f"wall:{link.id}", "name": f"Wall display {link.name}", "initials": "TV"}


# --- owners' side ---------------------------------------------------------------------------


def create_wall_link(
    board: Board, actor: User, name, *, theme="dark", lane_ids=None, column_ids=None,
    rotate_board_ids=None, rotate_seconds=None,
) -> tuple[WallLink, str]:
    """A new wall link for the board (owners only); the token is returned once, never stored.
    Lanes and columns must be the board's (None: all); rotation only through boards the owner
    also owns, every 15 s to 1 h."""
    require_role(board, actor, "owner")
    options = _wall_options(board, actor, name, theme, lane_ids, column_ids, rotate_board_ids,
                            rotate_seconds)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    link = WallLink(board_id=board.id, token_hash=digest(token), prefix=token[:12],
                    created_by_id=actor.id, **options)
    db.session.add(link)
    db.session.flush()
    return link, token


def update_wall_link(
    board: Board, actor: User, link_id, name, *, theme="dark", lane_ids=None, column_ids=None,
    rotate_board_ids=None, rotate_seconds=None,
) -> WallLink:
    """Change a link's options (same rules as creating it); an open wall reloads itself."""
    require_role(board, actor, "owner")
    link = _link_of(board, link_id)
    if link.revoked_at is not None:
        raise Invalid(f"The wall link {link.name!r} is revoked; create a new one.")
    options = _wall_options(board, actor, name, theme, lane_ids, column_ids, rotate_board_ids,
                            rotate_seconds)
    for key, value in options.items():
        setattr(link, key, value)
    db.session.flush()
    _notify_after_commit("wall_changed", link)
    return link


def revoke_wall_link(board: Board, actor: User, link_id) -> WallLink:
    """Revoke a link (owners only): its token opens nothing from now, and once the change is
    committed every open wall on it is told and disconnected."""
    require_role(board, actor, "owner")
    link = _link_of(board, link_id)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.flush()
        _notify_after_commit("wall_revoked", link)
    return link


def wall_links_of(board: Board) -> list[WallLink]:
    return list(db.session.scalars(
        select(WallLink).where(WallLink.board_id == board.id).order_by(WallLink.id)))


def rotation_candidates(board: Board, actor: User) -> list[Board]:
    """Other boards the actor owns: those a wall of `board` may rotate through."""
    return [b for b in _boards_owned_by(actor) if b.id != board.id]


def _boards_owned_by(actor: User) -> list[Board]:
    from app.boards.access import boards_for

    return [b for b, role in boards_for(actor) if role == "owner"]


def _link_of(board: Board, link_id) -> WallLink:
    link = by_id(db.session, WallLink, link_id)
    if link is None or link.board_id != board.id:
        raise NotFound("There is no such wall link on this board.")
    return link


def _id_list(values, what: str) -> list[int]:
    if isinstance(values, str | int):
        values = [values]
    if not isinstance(values, list | tuple):
        raise Invalid(f"{what} must be a list of ids.")
    ids = []
    for value in values:
        if isinstance(value, bool) or not str(value).strip().isdigit():
            raise Invalid(f"{what} must be ids (whole numbers); got {value!r}.")
        if int(value) not in ids:
            ids.append(int(value))
    return ids


def _subset(values, known: dict[int, str], what: str, plural: str) -> list[int] | None:
    """None (everything, including what is added later) or a non-empty list of known ids."""
    if values is None:
        return None
    ids = _id_list(values, f"The {plural} to show")
    if not ids:
        raise Invalid(f"Choose at least one {what} to show.")
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise Invalid(f"This board has no {what} with id {unknown[0]}.")
    if set(ids) == set(known):
        return None
    return [i for i in known if i in ids]  # in the board's order


def _wall_options(board, actor, name, theme, lane_ids, column_ids, rotate_board_ids,
                  rotate_seconds) -> dict:
    lanes = {ln.id: ln.name for ln in board_lanes(board)}
    columns = {c.id: c.name for c in active_columns(board)}
    options = {
        "name": clean_text(name, "Wall name", 80),
        "theme": choice(theme or "dark", THEMES, "Theme"),
        "lane_ids": _subset(lane_ids, lanes, "lane", "lanes"),
        "column_ids": _subset(column_ids, columns, "column", "columns"),
        "rotate_board_ids": None,
        "rotate_seconds": None,
    }
    rotate = _id_list(rotate_board_ids or [], "The boards to rotate through")
    rotate = [i for i in rotate if i != board.id]
    if rotate:
        owned = {b.id for b in _boards_owned_by(actor)}
        for board_id in rotate:
            if board_id not in owned:
                raise Invalid("A wall can rotate only through boards you own "
                              f"(board id {board_id} is not one of them).")
        if len(rotate) > ROTATE_BOARDS_MAX:
            raise Invalid(f"A wall rotates through at most {ROTATE_BOARDS_MAX} other boards.")
        options["rotate_board_ids"] = rotate
        options["rotate_seconds"] = _seconds(rotate_seconds)
    elif rotate_seconds not in (None, ""):
        _seconds(rotate_seconds)  # still refuse nonsense, even if unused
    return options


def _seconds(value) -> int:
    if value in (None, ""):
        return ROTATE_DEFAULT
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise Invalid(f"Seconds per board must be a whole number (got {value!r}).")
    seconds = int(value)
    if not ROTATE_MIN <= seconds <= ROTATE_MAX:
        raise Invalid(f"Seconds per board must be between {ROTATE_MIN} and {ROTATE_MAX} "
                      f"(got {seconds}).")
    return seconds


# --- the wall's side ------------------------------------------------------------------------


def wall_for_token(token) -> WallLink:
    """The live link a token opens; NotFound for anything else (unknown, revoked, malformed)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise NotFound(UNKNOWN)
    link = db.session.scalar(select(WallLink).where(WallLink.token_hash == digest(token)))
    if link is None or link.revoked_at is not None:
        raise NotFound(UNKNOWN)
    return link


def live_link(link_id: int | None) -> WallLink:
    """A socket's link, checked again (it may have been revoked since the socket connected)."""
    link = db.session.get(WallLink, link_id) if link_id else None
    if link is None or link.revoked_at is not None:
        raise NotFound(UNKNOWN)
    return link


def wall_boards(link: WallLink) -> list[Board]:
    """The link's board, then the boards it rotates through that its maker may still see."""
    boards = [link.board]
    for board_id in link.rotate_board_ids or []:
        board = db.session.get(Board, board_id)
        if board is not None and board_role(board, link.created_by) is not None:
            boards.append(board)
    return boards


def wall_board(link: WallLink, key: str) -> Board:
    for board in wall_boards(link):
        if board.key == (key or "").upper():
            return board
    raise NotFound(f"This wall does not show a board {key}.")


def wall_view(link: WallLink, board: Board, now: datetime | None = None) -> BoardView:
    """The board's page model, cut to the lanes and columns the link shows (on its own board;
    a rotated board shows whole)."""
    view = board_view(board, now=now)
    if board.id == link.board_id:
        if link.column_ids is not None:
            view.columns = [cv for cv in view.columns if cv.column.id in link.column_ids]
        if link.lane_ids is not None:
            view.lanes = [lv for lv in view.lanes if lv.lane.id in link.lane_ids]
    return view


def shows_everything(link: WallLink, board: Board) -> bool:
    return board.id != link.board_id or (link.column_ids is None and link.lane_ids is None)


@dataclass
class WallStrip:
    """The figures across the top of a wall."""

    board: Board
    finished_today: int
    wip: int
    sle_days: float | None
    andon: list[Card] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)


def wall_strip(board: Board, now: datetime | None = None) -> WallStrip:
    """Finished today (the board's calendar day), WIP (started, not finished, not archived),
    the SLE, the cards with the andon cord pulled and the error budgets left."""
    now = now or utcnow()
    zone = ZoneInfo(board.timezone)
    local_midnight = datetime.combine(now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date(),
                                      time(0), tzinfo=zone)
    since = local_midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    count = select(func.count()).select_from(Card).where(Card.board_id == board.id)
    finished = db.session.scalar(count.where(Card.finished_at >= since))
    wip = db.session.scalar(count.where(
        Card.started_at.is_not(None), Card.finished_at.is_(None), Card.archived_at.is_(None)))
    return WallStrip(board=board, finished_today=finished or 0, wip=wip or 0,
                     sle_days=service_level_expectation(board.id, now), andon=andon_cards(board),
                     budgets=budgets_of(board, now))


# --- telling open walls, after the commit ---------------------------------------------------


def _notify_after_commit(kind: str, link: WallLink) -> None:
    keys = [b.key for b in wall_boards(link)]
    db.session.info.setdefault(NOTICES, []).append((kind, link.id, keys))


@sa_event.listens_for(Session, "after_commit")
def _send_notices(session: Session) -> None:
    notices = session.info.pop(NOTICES, None)
    if not notices or not has_app_context():
        return
    for kind, link_id, keys in notices:
        socketio.emit(kind, {"wall": link_id}, to=wall_room(link_id))
        if kind == "wall_revoked":
            disconnect_wall(link_id, keys)


@sa_event.listens_for(Session, "after_rollback")
def _drop_notices(session: Session) -> None:
    session.info.pop(NOTICES, None)


def disconnect_wall(link_id: int, board_keys: list[str]) -> None:
    """Cut every socket opened with the link (in any process, through the message queue, as
    for a removed member); reconnecting and joining are then refused."""
    presence = current_app.extensions["sb_presence"]
    username = f"wall:{link_id}"
    sids = set()
    for key in board_keys:
        for sid in presence.sids_of(key, username):
            presence.leave(key, sid)
            sids.add(sid)
    # Sockets of this process that connected but have not joined a board yet.
    sids.update(sid for sid, _ in socketio.server.manager.get_participants("/", wall_room(link_id)))
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
    for key in board_keys:  # the board's other views stop listing the wall
        emit_to_room("presence", {"board": key, "viewers": presence.viewers(key)}, room(key))
