"""Card commands: create, edit, block, archive, checklist, links and comments.

Each locks the card's board, validates, changes the card and appends an event in the same
transaction; the caller commits.
"""

from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from app.accounts.models import User
from app.boards.access import board_role, lock_board, require_role
from app.boards.models import Board, BoardColumn, BoardMember, Lane
from app.boards.services import active_columns, board_lanes
from app.cards.models import CARD_TYPES, LEVELS, LINK_KINDS, Card, CardLink, ChecklistItem, Comment
from app.cards.moves import (
    apply_flow_dates,
    check_version,
    locked_card,
    rank_in_cell,
    record_overrides,
)
from app.cards.wip import check_room
from app.clock import utcnow
from app.database import by_id, row_id
from app.errors import Invalid, NotFound
from app.events.services import record_event
from app.extensions import db
from app.validation import choice, clean_text, optional_date, whole_number, word_list

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 5_000
REASON_MAX = 300
LINK_CHOICES = (*LINK_KINDS, "blocked_by")
EDITABLE = (
    "title",
    "description",
    "type",
    "impact",
    "urgency",
    "owner",
    "due_date",
    "tags",
    "required_skills",
    "cost_of_delay",
    "job_size",
)


# Built once, run with parameters: nearly every request about a card starts here (see
# app/database.py); its board and lane come along, as callers ask for them next.
_CARD_BY_KEY = (
    select(Card)
    .join(Card.board)
    .where(Board.key == bindparam("board"), Card.number == bindparam("number"))
    .options(contains_eager(Card.board), joinedload(Card.lane))
)


def get_card(card_key: str, user: User | None, needed: str = "viewer") -> Card:
    """A card by its key (`SUP-42`) for a user with at least `needed` on its board."""
    board_key, _, number = (card_key or "").upper().rpartition("-")
    card = None
    if board_key and row_id(number) is not None:
        card = db.session.scalar(_CARD_BY_KEY, {"board": board_key, "number": row_id(number)})
    if card is None or board_role(card.board, user) is None:
        raise NotFound(f"There is no card {card_key}.")
    require_role(card.board, user, needed)
    return card


def _owner(board: Board, value) -> User | None:
    """An owner must be a member (not a viewer) of the board; given by username or id."""
    if value in (None, ""):
        return None
    if isinstance(value, User):
        user = value
    else:
        ref = str(value).strip()
        condition = User.id == row_id(ref) if ref.isdigit() else User.username == ref
        user = db.session.scalar(select(User).where(condition))
    if user is None:
        raise Invalid(f"There is no user {value!r} to own the card.")
    if board_role(board, user) not in ("member", "owner"):
        raise Invalid(f"{user.username} is not a member of {board.key}, so cannot own its cards.")
    return user


def _card_fields(board: Board, values: dict) -> dict:
    """Validate the editable fields present in `values`; unknown fields are refused."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise Invalid(f"Unknown card field(s): {', '.join(sorted(unknown))}.")
    fields = {}
    if "title" in values:
        fields["title"] = clean_text(values["title"], "Title", TITLE_MAX)
    if "description" in values:
        fields["description"] = clean_text(
            values["description"], "Description", DESCRIPTION_MAX, required=False
        )
    if "type" in values:
        fields["type"] = choice(values["type"], CARD_TYPES, "Type") if values["type"] else None
    for level in ("impact", "urgency"):
        if level in values:
            fields[level] = choice(values[level], LEVELS, level.capitalize())
    if "owner" in values:
        fields["owner"] = _owner(board, values["owner"])
    if "due_date" in values:
        fields["due_date"] = optional_date(values["due_date"], "Due date")
    if "tags" in values:
        fields["tags"] = word_list(values["tags"], "Tags")
    if "required_skills" in values:
        fields["required_skills"] = word_list(values["required_skills"], "Skills")
    for number in ("cost_of_delay", "job_size"):
        if number in values:
            raw = values[number]
            label = number.replace("_", " ").capitalize()
            fields[number] = None if raw in (None, "") else whole_number(raw, label, minimum=1)
    return fields


def _plain(value):
    if isinstance(value, User):
        return value.username
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def create_card(
    board: Board,
    actor: User,
    *,
    title: str,
    column: BoardColumn | None = None,
    lane: Lane | None = None,
    override_reason: str | None = None,
    at: datetime | None = None,
    **values,
) -> Card:
    """Create a card; only the title is needed. It goes to the first column and the
    standard lane unless told otherwise, within their WIP limits."""
    require_role(board, actor, "member")
    board = lock_board(board)
    fields = _card_fields(board, {"title": title, **values})
    columns = active_columns(board)
    if not columns:
        raise Invalid(f"Board {board.key} has no columns yet; add one in its settings.")
    column = column or columns[0]
    lanes = board_lanes(board)
    lane = lane or next((ln for ln in lanes if ln.class_of_service == "standard"), lanes[0])
    if column.board_id != board.id or lane.board_id != board.id or column.removed_at:
        raise Invalid(f"A card of {board.key} must be created on {board.key}'s own columns.")
    overrides, soft = check_room(None, column, lane, override_reason)
    at = at or utcnow()
    card = Card(
        board=board,
        number=board.next_card_number,
        column=column,
        lane=lane,
        rank=rank_in_cell(None, column, lane, None),
        created_at=at,
        column_entered_at=at,
        created_by_id=actor.id,
        **{"tags": [], "required_skills": [], **fields},
    )
    board.next_card_number += 1
    apply_flow_dates(card, column, at)
    db.session.add(card)
    db.session.flush()
    record_event(
        board,
        "card.created",
        actor=actor,
        card=card,
        at=at,
        to_column=column,
        to_lane=lane,
        title=card.title,
        to_column_name=column.name,
        to_lane_name=lane.name,
        over_soft_limit=soft,
        decisions={"override_reason": override_reason},
    )
    record_overrides(board, actor, card, overrides, at)
    return card


def update_card(card: Card, actor: User, *, version=None, at=None, **values) -> Card:
    """Edit a card's fields; refused when `version` is older than the stored one."""
    require_role(card.board, actor, "member")
    card = locked_card(card)
    check_version(card, version)
    fields = _card_fields(card.board, values)
    changes = {}
    for name, value in fields.items():
        old = getattr(card, name)
        if old != value:
            changes[name] = [_plain(old), _plain(value)]
            setattr(card, name, value)
    if changes:
        db.session.flush()
        record_event(card.board, "card.updated", actor=actor, card=card, at=at, changes=changes)
    return card


def block_card(card: Card, actor: User, reason: str, *, version=None, at=None) -> Card:
    """Flag a card blocked with a reason; blocked time is tracked per reason from the log."""
    require_role(card.board, actor, "member")
    card = locked_card(card)
    check_version(card, version)
    reason = clean_text(reason, "Blocked reason", REASON_MAX)
    if card.blocked:
        raise Invalid(f"{card.key} is already blocked: {card.blocked_reason}")
    at = at or utcnow()
    card.blocked, card.blocked_reason, card.blocked_at = True, reason, at
    db.session.flush()
    record_event(card.board, "card.blocked", actor=actor, card=card, at=at, reason=reason)
    return card


def unblock_card(card: Card, actor: User, *, version=None, at=None) -> Card:
    require_role(card.board, actor, "member")
    card = locked_card(card)
    check_version(card, version)
    if not card.blocked:
        raise Invalid(f"{card.key} is not blocked.")
    at = at or utcnow()
    seconds = (at - card.blocked_at).total_seconds() if card.blocked_at else None
    reason = card.blocked_reason
    card.blocked, card.blocked_reason, card.blocked_at = False, None, None
    db.session.flush()
    record_event(
        card.board,
        "card.unblocked",
        actor=actor,
        card=card,
        at=at,
        reason=reason,
        blocked_seconds=seconds,
    )
    return card


def archive_card(card: Card, actor: User, *, version=None, at=None, swarm=None) -> Card:
    """Take a card off the board. Never deleted: its history feeds the metrics. A card with an
    open swarm needs `swarm` (resolve, cancel or keep) to say what becomes of it."""
    require_role(card.board, actor, "member")
    card = locked_card(card)
    check_version(card, version)
    if card.archived_at is not None:
        raise Invalid(f"{card.key} is already archived.")
    card.archived_at = at or utcnow()
    db.session.flush()
    record_event(
        card.board, "card.archived", actor=actor, card=card, at=at, from_column=card.column,
        decisions={"swarm": swarm},
    )
    return card


def restore_card(card: Card, actor: User, *, override_reason=None, at=None) -> Card:
    """Put an archived card back in its column, within that column's WIP limit."""
    require_role(card.board, actor, "member")
    card = locked_card(card)
    if card.archived_at is None:
        raise Invalid(f"{card.key} is not archived.")
    if card.column.removed_at is not None:
        raise Invalid(f"{card.key}'s column has been deleted; it cannot be restored there.")
    overrides, _soft = check_room(card, card.column, card.lane, override_reason)
    card.archived_at = None
    card.rank = rank_in_cell(card, card.column, card.lane, None)
    db.session.flush()
    record_event(card.board, "card.restored", actor=actor, card=card, at=at, to_column=card.column)
    record_overrides(card.board, actor, card, overrides, at or utcnow())
    return card


# --- checklist -----------------------------------------------------------------------------


def add_checklist_item(card: Card, actor: User, text: str) -> ChecklistItem:
    require_role(card.board, actor, "member")
    card = locked_card(card)
    text = clean_text(text, "Checklist item", 300)
    if len(card.checklist) >= 50:
        raise Invalid("A card's checklist holds at most 50 items.")
    item = ChecklistItem(card=card, text=text, position=len(card.checklist))
    db.session.add(item)
    db.session.flush()
    record_event(card.board, "card.checklist", actor=actor, card=card, action="added", text=text)
    return item


def _checklist_item(card: Card, item_id) -> ChecklistItem:
    item = next((i for i in card.checklist if str(i.id) == str(item_id)), None)
    if item is None:
        raise NotFound(f"{card.key} has no checklist item {item_id}.")
    return item


def set_checklist_item(card: Card, actor: User, item_id, done: bool) -> ChecklistItem:
    require_role(card.board, actor, "member")
    card = locked_card(card)
    item = _checklist_item(card, item_id)
    if item.done != bool(done):
        item.done = bool(done)
        action = "checked" if item.done else "unchecked"
        record_event(card.board, "card.checklist", actor=actor, card=card, action=action,
                     text=item.text)
    return item


def remove_checklist_item(card: Card, actor: User, item_id) -> None:
    require_role(card.board, actor, "member")
    card = locked_card(card)
    item = _checklist_item(card, item_id)
    card.checklist.remove(item)
    for position, remaining in enumerate(card.checklist):
        remaining.position = position
    record_event(
        card.board, "card.checklist", actor=actor, card=card, action="removed", text=item.text
    )


# --- links ---------------------------------------------------------------------------------


def link_cards(card: Card, actor: User, kind: str, other_key: str) -> CardLink:
    """Link two cards: blocks, blocked_by (stored as the other card blocking this one),
    relates or duplicates. The other card may be on any board the actor can see."""
    require_role(card.board, actor, "member")
    card = locked_card(card)
    kind = choice(kind, LINK_CHOICES, "Link kind")
    other = get_card(other_key, actor)
    if other.id == card.id:
        raise Invalid("A card cannot be linked to itself.")
    source, target = (other, card) if kind == "blocked_by" else (card, other)
    kind = "blocks" if kind == "blocked_by" else kind
    same_pair = (CardLink.source_id == source.id) & (CardLink.target_id == target.id)
    if kind == "relates":  # symmetric: B relates A is the same link as A relates B
        same_pair |= (CardLink.source_id == target.id) & (CardLink.target_id == source.id)
    exists = db.session.scalar(select(CardLink.id).where(same_pair, CardLink.kind == kind))
    if exists:
        raise Invalid(f"{source.key} already {kind} {target.key}.")
    link = CardLink(source=source, target=target, kind=kind)
    db.session.add(link)
    db.session.flush()
    record_event(
        card.board, "card.linked", actor=actor, card=card, kind=kind, source=source.key,
        target=target.key,
    )
    return link


def unlink_cards(card: Card, actor: User, link_id) -> None:
    require_role(card.board, actor, "member")
    card = locked_card(card)
    link = by_id(db.session, CardLink, link_id)
    if link is None or card.id not in (link.source_id, link.target_id):
        raise NotFound(f"{card.key} has no link {link_id}.")
    record_event(
        card.board, "card.unlinked", actor=actor, card=card, kind=link.kind,
        source=link.source.key, target=link.target.key,
    )
    db.session.delete(link)


def links_of(card: Card) -> list[tuple[str, Card, CardLink]]:
    """(how this card relates, the other card, the link) read from this card's side."""
    links = db.session.scalars(
        select(CardLink).where(or_(CardLink.source_id == card.id, CardLink.target_id == card.id))
    ).all()
    inverse = {"blocks": "is blocked by", "relates": "relates to", "duplicates": "is duplicated by"}
    forward = {"blocks": "blocks", "relates": "relates to", "duplicates": "duplicates"}
    result = []
    for link in links:
        if link.source_id == card.id:
            result.append((forward[link.kind], link.target, link))
        else:
            result.append((inverse[link.kind], link.source, link))
    return result


# --- comments ------------------------------------------------------------------------------


def add_comment(card: Card, actor: User, body: str, *, at: datetime | None = None) -> Comment:
    require_role(card.board, actor, "member")
    card = locked_card(card)
    body = clean_text(body, "Comment", COMMENT_MAX)
    at = at or utcnow()
    comment = Comment(card=card, author_id=actor.id, body=body, created_at=at)
    db.session.add(comment)
    db.session.flush()
    record_event(card.board, "card.commented", actor=actor, card=card, at=at, comment=comment.id)
    return comment


def archived_cards(board: Board) -> list[Card]:
    return list(
        db.session.scalars(
            select(Card)
            .where(Card.board_id == board.id, Card.archived_at.is_not(None))
            .order_by(Card.archived_at.desc())
        )
    )


def assignable_people(board: Board) -> list[User]:
    """Members who may own the board's cards (not viewers)."""
    return list(
        db.session.scalars(
            select(User)
            .join(BoardMember, BoardMember.user_id == User.id)
            .where(BoardMember.board_id == board.id, BoardMember.role.in_(("member", "owner")))
            .order_by(User.display_name)
        )
    )
