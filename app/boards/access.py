"""Who may see and change a board. Non-members get NotFound, so a board's existence is private."""

from flask import has_request_context, request
from sqlalchemy import bindparam, select

from app.accounts.models import User
from app.boards.models import ROLES, Board, BoardMember
from app.database import read_under_write_lock, rows
from app.errors import Forbidden, NotFound
from app.extensions import db

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
# Built once, run with parameters: every request asks (app/database.py says why).
_ROLE = select(BoardMember.role).where(
    BoardMember.board_id == bindparam("board"), BoardMember.user_id == bindparam("user")
)


def board_role(board: Board, user: User | None) -> str | None:
    """The user's role on the board; site admins act as owners everywhere."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.is_admin:
        return "owner"
    # A request asks the same question several times (the route, then the service it calls);
    # the answer is kept for the rest of that request only.
    cache = request.environ.setdefault("sb.roles", {}) if has_request_context() else {}
    key = (board.id, user.id)
    if key not in cache:
        cache[key] = rows(db.session, _ROLE, {"board": board.id, "user": user.id}).scalar()
    return cache[key]


def forget_roles() -> None:
    """Memberships changed in this request: ask the database again from now on."""
    if has_request_context():
        request.environ.pop("sb.roles", None)


def require_role(board: Board, user: User | None, needed: str = "viewer") -> str:
    """Raise NotFound for outsiders and Forbidden for members below `needed`; return the role."""
    role = board_role(board, user)
    if role is None:
        raise NotFound(f"There is no board {board.key}.")
    if ROLE_RANK[role] < ROLE_RANK[needed]:
        verb = "change" if needed == "member" else "manage"
        raise Forbidden(f"As a {role} of {board.key} you cannot {verb} it.")
    return role


def get_board(key: str, user: User | None, needed: str = "viewer") -> Board:
    """Load a board by key (case-insensitive) for a user who holds at least `needed`."""
    board = db.session.scalar(select(Board).where(Board.key == (key or "").upper()))
    if board is None:
        raise NotFound(f"There is no board {key}.")
    require_role(board, user, needed)
    return board


def boards_for(user: User) -> list[tuple[Board, str]]:
    """The boards a user belongs to, with the role on each, by name."""
    if user.is_admin:
        boards = db.session.scalars(select(Board).order_by(Board.name)).all()
        return [(b, "owner") for b in boards]
    memberships = db.session.execute(
        select(Board, BoardMember.role)
        .join(BoardMember, BoardMember.board_id == Board.id)
        .where(BoardMember.user_id == user.id)
        .order_by(Board.name)
    ).all()
    return [(board, role) for board, role in memberships]


def lock_board(board: Board) -> Board:
    """Take the board's write lock for this transaction, with the board as it stands.

    Every command that changes a board calls this first, so WIP checks and sequence numbers
    are decided one command at a time per board (FOR UPDATE on PostgreSQL, which reads the
    board afresh; on SQLite the transaction has held the database's write lock since it began,
    so what it read is current already, see app/database.py).
    """
    if read_under_write_lock(db.session):
        return board
    return db.session.execute(
        select(Board)
        .where(Board.id == board.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
