"""Board commands: create from a template, shape the columns and lanes, manage members.

Every command locks the board, validates, changes, and appends an event; the caller commits.
"""

import re
from datetime import datetime
from zoneinfo import available_timezones

from sqlalchemy import bindparam, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.accounts.models import Team, User
from app.boards.access import forget_roles, lock_board, require_role
from app.boards.models import (
    CLASSES_OF_SERVICE,
    COLUMN_KINDS,
    ROLES,
    SORT_POLICIES,
    VALUE_ACTIVITIES,
    WIP_POLICIES,
    Board,
    BoardColumn,
    BoardMember,
    Lane,
)
from app.boards.stream_templates import EMPTY_LANES, TEMPLATES
from app.clock import utcnow
from app.database import kept_for_transaction
from app.errors import DomainError, Invalid, NotFound
from app.events.services import record_event
from app.extensions import db
from app.validation import choice, clean_text, optional_limit

BOARD_KEY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
MAX_DISPATCH_TIMES = 12
CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def create_board(
    actor: User,
    *,
    name: str,
    key: str,
    template: str | None = None,
    team: Team | None = None,
    timezone: str = "UTC",
    at: datetime | None = None,
) -> Board:
    """Create a board, optionally laid out from a template; the creator becomes its owner."""
    name = clean_text(name, "Board name", 120)
    key = clean_text(key, "Board key", 10).upper()
    if not BOARD_KEY.match(key):
        raise Invalid("Board key must be 2 to 10 letters or digits, starting with a letter.")
    if db.session.scalar(select(Board.id).where(Board.key == key)):
        raise Invalid(f"The key {key} is taken by another board.")
    if template not in (None, "", *TEMPLATES):
        raise Invalid(f"Template must be one of: {', '.join(TEMPLATES)}, or none for empty.")
    if timezone not in available_timezones() and timezone != "UTC":
        raise Invalid(f"Unknown time zone {timezone!r}.")

    board = Board(key=key, name=name, team=team, timezone=timezone, created_at=at or utcnow())
    db.session.add(board)
    db.session.flush()
    db.session.add(BoardMember(board_id=board.id, user_id=actor.id, role="owner"))
    layout = TEMPLATES.get(template or "", {"columns": [], "lanes": EMPTY_LANES})
    for position, (col_name, kind, activity, limit, policy) in enumerate(layout["columns"]):
        db.session.add(
            BoardColumn(
                board_id=board.id,
                name=col_name,
                kind=kind,
                position=position,
                value_activity=activity,
                wip_limit=limit,
                wip_policy=policy,
                done_checklist=[],
            )
        )
    for position, (lane_name, cos, limit, policy) in enumerate(layout["lanes"]):
        db.session.add(
            Lane(
                board_id=board.id,
                name=lane_name,
                class_of_service=cos,
                position=position,
                wip_limit=limit,
                wip_policy=policy,
            )
        )
    db.session.flush()
    record_event(board, "board.created", actor=actor, at=at, template=template or None, name=name)
    return board


def update_board(
    board: Board, actor: User, *, name=None, description=None, timezone=None, dispatch_times=None
) -> Board:
    """Change the board's own fields (those given); `dispatch_times` are the dispatch swarm's
    meetings, "HH:MM" on the board's clock (see app.swarms.dispatch)."""
    require_role(board, actor, "owner")
    board = lock_board(board)
    changes = {}
    if name is not None:
        changes["name"] = board.name = clean_text(name, "Board name", 120)
    if description is not None:
        changes["description"] = board.description = clean_text(
            description, "Description", 2000, required=False
        )
    if timezone is not None:
        if timezone not in available_timezones() and timezone != "UTC":
            raise Invalid(f"Unknown time zone {timezone!r}.")
        changes["timezone"] = board.timezone = timezone
    if dispatch_times is not None:
        times = parse_dispatch_times(dispatch_times)
        if times != (board.dispatch_times or []):
            changes["dispatch_times"] = board.dispatch_times = times
    record_event(board, "board.updated", actor=actor, changes=changes)
    return board


def parse_dispatch_times(value) -> list[str]:
    """Dispatch times as "HH:MM" on the board's clock, from a list or text separated by commas,
    spaces or lines: validated, sorted, de-duplicated, at most 12. Empty means no schedule."""
    if value is None:
        return []
    if isinstance(value, str):
        items = re.split(r"[\s,;]+", value.strip())
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise Invalid("Dispatch times must be a list of times like 09:00.")
    times = set()
    for item in items:
        if not isinstance(item, str):
            raise Invalid("Dispatch times must be times like 09:00.")
        if not item.strip():
            continue
        match = CLOCK_TIME.match(item.strip())
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise Invalid(f"Dispatch time {item.strip()!r} is not a time like 09:00 or 16:30.")
        times.add(f"{int(match[1]):02d}:{match[2]}")
    if len(times) > MAX_DISPATCH_TIMES:
        raise Invalid(f"A board has at most {MAX_DISPATCH_TIMES} dispatch times a day "
                      f"(got {len(times)}).")
    return sorted(times)


# --- columns -------------------------------------------------------------------------------

LIVE_COLUMNS = "live_columns"  # kept for the transaction: board id → its live columns
# Built once, run with parameters: every move and page asks (app/database.py says why).
_LIVE_COLUMNS = (
    select(BoardColumn)
    .where(BoardColumn.board_id == bindparam("board"), BoardColumn.removed_at.is_(None))
    .order_by(BoardColumn.position)
)


def active_columns(board: Board) -> list[BoardColumn]:
    """The board's live columns in order. A move asks three times (for its target column, the
    commitment point, the push): the answer is kept until a column changes or the transaction
    ends."""
    kept = kept_for_transaction(db.session, LIVE_COLUMNS)
    if board.id not in kept or _columns_changing(db.session):
        kept[board.id] = list(db.session.scalars(_LIVE_COLUMNS, {"board": board.id}))
    return list(kept[board.id])


def _columns_changing(session: Session) -> bool:
    return any(
        isinstance(item, BoardColumn)
        for item in (*session.new, *session.dirty, *session.deleted)
    )


@sa_event.listens_for(Session, "after_flush")
def _forget_flushed_columns(session: Session, _context) -> None:
    if _columns_changing(session):  # still the flushed changes, in after_flush
        kept_for_transaction(session, LIVE_COLUMNS).clear()


def find_column(board: Board, ref, missing: type[DomainError] = NotFound) -> BoardColumn:
    """A live column of this board, by id (int or digits) or by name (case-insensitive).

    `missing` is raised when there is none: NotFound for a column in the URL, Invalid for
    one named in a request's fields."""
    return _find(active_columns(board), ref, missing, f"Board {board.key} has no column {ref!r}.")


def find_lane(board: Board, ref, missing: type[DomainError] = NotFound) -> Lane:
    """A lane of this board, by id or name, like `find_column`."""
    return _find(board_lanes(board), ref, missing, f"Board {board.key} has no lane {ref!r}.")


def _find(items, ref, missing: type[DomainError], message: str):
    by_id = isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit())
    for item in items:
        if (by_id and item.id == int(ref)) or (
            isinstance(ref, str) and item.name.lower() == ref.strip().lower()
        ):
            return item
    raise missing(message)


def board_lanes(board: Board) -> list[Lane]:
    return list(
        db.session.scalars(select(Lane).where(Lane.board_id == board.id).order_by(Lane.position))
    )


def commitment_point(board: Board, columns: list[BoardColumn] | None = None) -> BoardColumn | None:
    """The first non-backlog column: entering it (or anything after it) starts a card.
    `columns`, the board's live columns in order, when the caller has them already."""
    columns = active_columns(board) if columns is None else columns
    return next((c for c in columns if c.kind != "backlog"), None)


def _check_unique_name(board: Board, name: str, model, exclude_id: int | None = None):
    others = active_columns(board) if model is BoardColumn else board_lanes(board)
    if any(o.name.lower() == name.lower() and o.id != exclude_id for o in others):
        what = "column" if model is BoardColumn else "lane"
        raise Invalid(f"Board {board.key} already has a {what} named {name!r}.")


def _column_fields(values: dict) -> dict:
    """Validate the editable fields of a column that are present in `values`."""
    fields = {}
    if "name" in values:
        fields["name"] = clean_text(values["name"], "Column name", 60)
    if "kind" in values:
        fields["kind"] = choice(values["kind"], COLUMN_KINDS, "Column kind")
    if "wip_limit" in values:
        fields["wip_limit"] = optional_limit(values["wip_limit"])
    if "wip_policy" in values:
        fields["wip_policy"] = choice(values["wip_policy"], WIP_POLICIES, "WIP policy")
    if "sort_policy" in values:
        fields["sort_policy"] = choice(values["sort_policy"], SORT_POLICIES, "Sort policy")
    if "value_activity" in values:
        activity = values["value_activity"] or None
        if activity is not None:
            choice(activity, VALUE_ACTIVITIES, "Value chain activity")
        fields["value_activity"] = activity
    if "policy_text" in values:
        fields["policy_text"] = clean_text(
            values["policy_text"], "Explicit policy", 4000, required=False
        )
    if "done_checklist" in values:
        items = values["done_checklist"]
        if isinstance(items, str):
            items = items.splitlines()
        if not isinstance(items, list):
            raise Invalid("Definition of done must be a list of items.")
        fields["done_checklist"] = [
            clean_text(item, "A definition-of-done item", 200) for item in items if item.strip()
        ]
        if len(fields["done_checklist"]) > 30:
            raise Invalid("A definition of done has at most 30 items.")
    return fields


def add_column(
    board: Board, actor: User, *, position: int | None = None, at: datetime | None = None, **values
) -> BoardColumn:
    require_role(board, actor, "owner")
    board = lock_board(board)
    values.setdefault("kind", "active")
    if "name" not in values:
        raise Invalid("Column name cannot be empty.")
    fields = _column_fields(values)
    _check_unique_name(board, fields["name"], BoardColumn)
    columns = active_columns(board)
    position = len(columns) if position is None else max(0, min(int(position), len(columns)))
    column = BoardColumn(board_id=board.id, position=position, **{"done_checklist": [], **fields})
    columns.insert(position, column)
    db.session.add(column)
    _renumber(columns)
    db.session.flush()
    record_event(board, "column.added", actor=actor, at=at, to_column=column, name=column.name)
    return column


def update_column(board: Board, actor: User, column: BoardColumn, **values) -> BoardColumn:
    require_role(board, actor, "owner")
    _own(board, column)
    board = lock_board(board)
    fields = _column_fields(values)
    if "name" in fields:
        _check_unique_name(board, fields["name"], BoardColumn, exclude_id=column.id)
    changes = _apply(column, fields)
    if changes:
        record_event(board, "column.updated", actor=actor, to_column=column, changes=changes)
    return column


def move_column(board: Board, actor: User, column: BoardColumn, position: int) -> None:
    require_role(board, actor, "owner")
    _own(board, column)
    board = lock_board(board)
    columns = [c for c in active_columns(board) if c.id != column.id]
    position = max(0, min(int(position), len(columns)))
    columns.insert(position, column)
    _renumber(columns)
    record_event(
        board, "column.reordered", actor=actor, to_column=column, position=position
    )


def remove_column(board: Board, actor: User, column: BoardColumn) -> None:
    """Remove a column; kept in the database for the history. The card services refuse it
    while cards stand in it (app/cards/occupancy.py, told of the event)."""
    require_role(board, actor, "owner")
    _own(board, column)
    board = lock_board(board)
    column.removed_at = utcnow()
    remaining = [c for c in active_columns(board) if c.id != column.id]
    _renumber(remaining)
    record_event(board, "column.removed", actor=actor, from_column=column, name=column.name)


def _apply(item, fields: dict) -> dict:
    """Set the fields that differ; return them (the event's `changes`)."""
    changes = {name: value for name, value in fields.items() if getattr(item, name) != value}
    for name, value in changes.items():
        setattr(item, name, value)
    return changes


def _own(board: Board, item) -> None:
    """Columns and lanes are changed only through their own board."""
    if item.board_id != board.id:
        what = "column" if isinstance(item, BoardColumn) else "lane"
        raise NotFound(f"Board {board.key} has no {what} {item.name!r}.")


def _renumber(items) -> None:
    for index, item in enumerate(items):
        if item.position != index:
            item.position = index


# --- lanes ---------------------------------------------------------------------------------


def _lane_fields(values: dict) -> dict:
    fields = {}
    if "name" in values:
        fields["name"] = clean_text(values["name"], "Lane name", 60)
    if "class_of_service" in values:
        fields["class_of_service"] = choice(
            values["class_of_service"], CLASSES_OF_SERVICE, "Class of service"
        )
    if "wip_limit" in values:
        fields["wip_limit"] = optional_limit(values["wip_limit"], "Lane WIP limit")
    if "wip_policy" in values:
        fields["wip_policy"] = choice(values["wip_policy"], WIP_POLICIES, "Lane WIP policy")
    return fields


def add_lane(board: Board, actor: User, *, at: datetime | None = None, **values) -> Lane:
    require_role(board, actor, "owner")
    board = lock_board(board)
    if "name" not in values:
        raise Invalid("Lane name cannot be empty.")
    values.setdefault("class_of_service", "standard")
    fields = _lane_fields(values)
    _check_unique_name(board, fields["name"], Lane)
    lane = Lane(board_id=board.id, position=len(board_lanes(board)), **fields)
    db.session.add(lane)
    db.session.flush()
    record_event(board, "lane.added", actor=actor, at=at, lane=lane.id, name=lane.name)
    return lane


def update_lane(board: Board, actor: User, lane: Lane, **values) -> Lane:
    require_role(board, actor, "owner")
    _own(board, lane)
    board = lock_board(board)
    fields = _lane_fields(values)
    if "name" in fields:
        _check_unique_name(board, fields["name"], Lane, exclude_id=lane.id)
    changes = _apply(lane, fields)
    if changes:
        record_event(board, "lane.updated", actor=actor, lane=lane.id, changes=changes)
    return lane


def move_lane(board: Board, actor: User, lane: Lane, position: int) -> None:
    require_role(board, actor, "owner")
    _own(board, lane)
    board = lock_board(board)
    lanes = [item for item in board_lanes(board) if item.id != lane.id]
    lanes.insert(max(0, min(int(position), len(lanes))), lane)
    _renumber(lanes)
    record_event(board, "lane.reordered", actor=actor, lane=lane.id, position=lane.position)


def remove_lane(board: Board, actor: User, lane: Lane) -> None:
    """Delete a lane; a board keeps at least one lane. The card services refuse a lane that
    has held cards, archived ones included: their history names it (app/cards/occupancy.py)."""
    require_role(board, actor, "owner")
    _own(board, lane)
    board = lock_board(board)
    if len(board_lanes(board)) == 1:
        raise Invalid("A board needs at least one lane.")
    # Told before the row goes: the card services refuse a lane that has held cards.
    record_event(board, "lane.removed", actor=actor, lane=lane.id, name=lane.name)
    db.session.delete(lane)
    _renumber([item for item in board_lanes(board) if item.id != lane.id])


# --- members -------------------------------------------------------------------------------


def set_member(
    board: Board, actor: User, username: str, role: str, *, at: datetime | None = None
) -> BoardMember:
    """Add someone to the board or change their role; the last owner cannot step down."""
    require_role(board, actor, "owner")
    board = lock_board(board)
    role = choice(role, ROLES, "Role")
    user = db.session.scalar(
        select(User).where(User.username == (username or "").strip().lower())
    )
    if user is None:
        raise NotFound(f"There is no user {username!r}.")
    member = db.session.get(BoardMember, (board.id, user.id))
    if member is None:
        member = BoardMember(board_id=board.id, user=user, role=role)
        db.session.add(member)
        forget_roles()
        record_event(board, "member.added", actor=actor, at=at, user=user.username, role=role)
    elif member.role != role:
        if member.role == "owner":
            _ensure_another_owner(board, user)
        member.role = role
        forget_roles()
        record_event(board, "member.changed", actor=actor, at=at, user=user.username, role=role)
    return member


def add_team(board: Board, actor: User, team_name: str, role: str = "member") -> list[str]:
    """Give every member of a team `role` on the board (existing roles are kept); returns the
    usernames added."""
    require_role(board, actor, "owner")
    team = db.session.scalar(select(Team).where(Team.name == (team_name or "").strip()))
    if team is None:
        raise NotFound(f"There is no team {team_name!r}.")
    choice(role, ROLES, "Role")
    added = []
    for membership in team.members:
        if db.session.get(BoardMember, (board.id, membership.user_id)) is None:
            set_member(board, actor, membership.user.username, role)
            added.append(membership.user.username)
    return added


def remove_member(board: Board, actor: User, username: str) -> None:
    require_role(board, actor, "owner")
    board = lock_board(board)
    username = (username or "").strip().lower()
    user = db.session.scalar(select(User).where(User.username == username))
    member = db.session.get(BoardMember, (board.id, user.id)) if user else None
    if member is None:
        raise NotFound(f"{username} is not a member of {board.key}.")
    if member.role == "owner":
        _ensure_another_owner(board, user)
    db.session.delete(member)
    forget_roles()
    record_event(board, "member.removed", actor=actor, user=username)


def _ensure_another_owner(board: Board, leaving: User) -> None:
    owners = db.session.scalar(
        select(func.count()).where(
            BoardMember.board_id == board.id,
            BoardMember.role == "owner",
            BoardMember.user_id != leaving.id,
        )
    )
    if not owners:
        raise Invalid(f"{board.key} needs another owner before {leaving.username} steps down.")


def members_of(board: Board) -> list[BoardMember]:
    return list(
        db.session.scalars(
            select(BoardMember)
            .join(User)
            .where(BoardMember.board_id == board.id)
            .order_by(User.display_name)
        )
    )
