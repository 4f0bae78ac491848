"""The inbox and watching: who hears of what, and what they do with it.

Who hears of an event (never whoever did it, and only people who can still see the board):
- a swarm invitation: the invitee;
- a comment or swarm message: the board members and swarm people it @mentions;
- an andon pull: every member of the board;
- other changes to a card: its owner, the people in its open swarm (they watch it without
  asking), and whoever watches the card, its column (before or after a move) or the board.
One event gives a person one notification, of the most pressing kind that applies.
"""

import re
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, update

from app.accounts.models import User
from app.boards.access import require_role
from app.boards.models import Board, BoardColumn, BoardMember
from app.cards.models import Card
from app.clock import utcnow
from app.database import by_id, rows
from app.errors import Invalid, NotFound
from app.extensions import db
from app.notifications.models import Notification, Watch
from app.swarms.models import Swarm, SwarmStint

MENTION = re.compile(r"(?<![\w@/.])@([A-Za-z0-9_][A-Za-z0-9_.-]{0,39})")
INBOX_PAGE = 50
PRESSING = ("invitation", "mention", "andon", "budget", "change", "reminder")  # most pressing first


def mentioned(text: str) -> list[str]:
    """The usernames `text` mentions as @name, in order, once each (lower-case)."""
    found: list[str] = []
    for name in MENTION.findall(text or ""):
        name = name.rstrip(".-").lower()
        if name and name not in found:
            found.append(name)
    return found


# --- watching ---------------------------------------------------------------------------------


def _aimed_at(board: Board, card: Card | None, column: BoardColumn | None) -> list:
    """The conditions picking a watch on exactly this card, column or (neither) board."""
    if card is not None and card.board_id != board.id:
        raise NotFound(f"There is no card {card.key} on {board.key}.")
    if column is not None and column.board_id != board.id:
        raise NotFound(f"Board {board.key} has no such column.")
    return [
        Watch.board_id == board.id,
        Watch.card_id == card.id if card is not None else Watch.card_id.is_(None),
        Watch.column_id == column.id if column is not None else Watch.column_id.is_(None),
    ]


def watch(user: User, board: Board, *, card: Card | None = None,
          column: BoardColumn | None = None) -> Watch:
    """Watch a card, a column or (neither given) the whole board; watching twice is once."""
    require_role(board, user, "viewer")
    if card is not None and column is not None:
        raise Invalid("Watch a card or a column, not both at once.")
    found = db.session.scalar(select(Watch).where(Watch.user_id == user.id,
                                                  *_aimed_at(board, card, column)))
    if found is None:
        found = Watch(user_id=user.id, board_id=board.id, card_id=card.id if card else None,
                      column_id=column.id if column else None)
        db.session.add(found)
        db.session.flush()
    return found


def unwatch(user: User, board: Board, *, card: Card | None = None,
            column: BoardColumn | None = None) -> None:
    require_role(board, user, "viewer")
    for found in db.session.scalars(select(Watch).where(Watch.user_id == user.id,
                                                        *_aimed_at(board, card, column))):
        db.session.delete(found)
    db.session.flush()


def watched_on(user: User, board: Board) -> dict:
    """What the person watches on a board: {"board": bool, "columns": {ids}, "cards": {ids}}."""
    mine = db.session.execute(select(Watch.column_id, Watch.card_id).where(
        Watch.user_id == user.id, Watch.board_id == board.id)).all()
    return {
        "board": any(col is None and card is None for col, card in mine),
        "columns": {col for col, _ in mine if col is not None},
        "cards": {card for _, card in mine if card is not None},
    }


# Built once, run with parameters: every change to a card asks (app/database.py says why).
_WATCHERS = select(Watch.user_id).where(
    Watch.board_id == bindparam("board"),
    or_(Watch.card_id.is_(None) & Watch.column_id.is_(None),
        Watch.card_id == bindparam("card"),
        Watch.column_id.in_(bindparam("columns", expanding=True))))
_SWARMING = (select(SwarmStint.user_id).join(Swarm, Swarm.id == SwarmStint.swarm_id)
             .where(Swarm.card_id == bindparam("card"), Swarm.status == "open",
                    SwarmStint.left_at.is_(None)))
_MEMBERS_AMONG = select(BoardMember.user_id).where(
    BoardMember.board_id == bindparam("board"),
    BoardMember.user_id.in_(bindparam("people", expanding=True)))


def watchers(board_id: int, card_id: int | None, column_ids: set[int]) -> set[int]:
    """Who watches the card, one of the columns, or the whole board."""
    found = rows(db.session, _WATCHERS, {"board": board_id, "card": card_id,
                                         "columns": sorted(column_ids)})
    return set(found.scalars())


def swarming_on(card_id: int) -> set[int]:
    """The people in the card's open swarm: they watch the card without asking."""
    return set(rows(db.session, _SWARMING, {"card": card_id}).scalars())


def able_to_see(board_id: int, user_ids: set[int]) -> set[int]:
    """Those of `user_ids` who can still see the board (members, and site admins)."""
    if not user_ids:
        return set()
    members = set(rows(db.session, _MEMBERS_AMONG,
                       {"board": board_id, "people": sorted(user_ids)}).scalars())
    if members == user_ids:
        return members
    admins = set(db.session.scalars(select(User.id).where(User.id.in_(user_ids - members),
                                                          User.is_admin.is_(True))))
    return members | admins


# --- the inbox --------------------------------------------------------------------------------


def inbox(user: User, *, unread_only: bool = False, before: int | None = None,
          limit: int = INBOX_PAGE) -> list[Notification]:
    """The person's notifications, newest first, a page at a time (`before` an id)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


_UNREAD = (select(Notification.user_id, func.count(Notification.id))
           .where(Notification.user_id.in_(bindparam("people", expanding=True)),
                  Notification.read_at.is_(None))
           .group_by(Notification.user_id))


def unread_counts(user_ids) -> dict[int, int]:
    counts = dict(rows(db.session, _UNREAD, {"people": sorted(user_ids)}).all())
    return {user_id: counts.get(user_id, 0) for user_id in user_ids}


def unread_count(user: User) -> int:
    return unread_counts([user.id])[user.id]


def notification_of(user: User, notification_id) -> Notification:
    found = by_id(db.session, Notification, notification_id)
    if found is None or found.user_id != user.id:
        raise NotFound("There is no such notification in your inbox.")
    return found


def mark_read(user: User, notification_id, read: bool = True,
              at: datetime | None = None) -> Notification:
    found = notification_of(user, notification_id)
    found.read_at = (found.read_at or at or utcnow()) if read else None
    return found


def mark_all_read(user: User, at: datetime | None = None) -> int:
    """Everything unread becomes read; says how many."""
    done = db.session.execute(
        update(Notification).where(Notification.user_id == user.id,
                                   Notification.read_at.is_(None))
        .values(read_at=at or utcnow()))
    return done.rowcount


_INSERT = Notification.__table__.insert()


def notify(user_ids, *, kind: str, text: str, url: str, board_id: int | None = None,
           card_id: int | None = None, actor_id: int | None = None, key: str | None = None,
           event_seq: int | None = None, invitation_id: int | None = None,
           at: datetime | None = None) -> list[int]:
    """Write one notification per person (skipping those who already have one with `key`);
    returns who got one."""
    user_ids = set(user_ids)
    if key is not None and user_ids:
        user_ids -= set(db.session.scalars(select(Notification.user_id).where(
            Notification.key == key, Notification.user_id.in_(user_ids))))
    at = at or utcnow()
    if user_ids:
        rows(db.session, _INSERT, [dict(
            user_id=user_id, kind=kind, text=text[:400], url=url[:200], board_id=board_id,
            card_id=card_id, actor_id=actor_id, key=key, event_seq=event_seq,
            invitation_id=invitation_id, created_at=at) for user_id in sorted(user_ids)])
    return sorted(user_ids)
