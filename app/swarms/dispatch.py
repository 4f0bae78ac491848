"""The dispatch swarm: it meets a few times a day over a board's incoming work, takes quick
items, checks each record holds what onward work needs, and routes the rest (domain.md)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.models import User
from app.boards.access import require_role
from app.boards.models import Board, BoardColumn
from app.boards.services import active_columns, commitment_point
from app.cards.models import Card, CardLink
from app.cards.moves import move_card
from app.cards.services import update_card
from app.clock import utcnow
from app.errors import Invalid
from app.extensions import db

DUE_BEFORE = timedelta(minutes=5)  # a dispatch is "due" from 5 minutes before its time…
DUE_AFTER = timedelta(minutes=30)  # …until 30 minutes after it


# --- the incoming queue ----------------------------------------------------------------------


def incoming_queue(board: Board) -> list[Card]:
    """Cards not yet committed to (in backlog-kind columns, not archived), highest priority
    first, then oldest first."""
    cards = db.session.scalars(
        select(Card)
        .join(BoardColumn, BoardColumn.id == Card.column_id)
        .where(
            Card.board_id == board.id,
            Card.archived_at.is_(None),
            BoardColumn.kind == "backlog",
            BoardColumn.removed_at.is_(None),
        )
    ).all()
    # Priority follows from impact x urgency in Python (card.priority), so the order is too.
    return sorted(cards, key=lambda card: (card.priority, card.created_at, card.number))


def take_card(card: Card, actor: User, *, at: datetime | None = None) -> Card:
    """A quick item: whoever takes it becomes its owner and pulls it into the commitment point,
    within the WIP limits (a refusal changes nothing: the caller rolls back)."""
    require_role(card.board, actor, "member")
    start = commitment_point(card.board)
    if start is None:
        raise Invalid(f"{card.board.key} has no commitment point yet (every column is backlog).")
    if card.column.kind != "backlog":
        raise Invalid(f"{card.key} is already in {card.column.name}; it is not incoming any more.")
    at = at or utcnow()
    move_card(card, actor, column=start, at=at)
    if card.owner_id != actor.id:
        update_card(card, actor, owner=actor, at=at)
    return card


def route_card(
    card: Card,
    actor: User,
    *,
    column: BoardColumn | None = None,
    owner: str | None = None,
    override_reason: str | None = None,
    at: datetime | None = None,
) -> Card:
    """Send a card on: to a column (within its WIP limits), to an owner (a member of the board),
    or both, in one transaction."""
    require_role(card.board, actor, "member")
    moving = column is not None and column.id != card.column_id
    assigning = bool(owner) and owner != (card.owner.username if card.owner else None)
    if not moving and not assigning:
        raise Invalid(f"Choose another column or an owner to route {card.key} to.")
    at = at or utcnow()
    if moving:
        move_card(card, actor, column=column, override_reason=override_reason or None, at=at)
    if assigning:
        update_card(card, actor, owner=owner, at=at)
    return card


# --- is the record complete? -----------------------------------------------------------------

DESCRIPTION = "A description of what is needed"


def _linked_to_incident(card: Card) -> bool:
    others = db.session.scalars(
        select(Card.type).join(
            CardLink,
            ((CardLink.source_id == card.id) & (CardLink.target_id == Card.id))
            | ((CardLink.target_id == card.id) & (CardLink.source_id == Card.id)),
        )
    )
    return "incident" in set(others)


def information_checklist(card: Card) -> list[tuple[str, bool]]:
    """What onward work needs in the record, by card type, each with whether the card has it.

    Incident: description, impact and urgency set deliberately (not both left at medium), the
    affected service as a tag, the skills needed. Service request: description, due date.
    Change: description, due date, skills. Problem: description, a link to an incident.
    Defect: description, skills. Others: description. A card without a type needs one first.
    """
    described = bool((card.description or "").strip())
    skills = bool(card.required_skills)
    if card.type is None:
        return [("A type", False), (DESCRIPTION, described)]
    checks = {
        "incident": [
            ("Impact and urgency assessed", (card.impact, card.urgency) != ("medium", "medium")),
            ("The affected service (a tag)", bool(card.tags)),
            ("The skills needed", skills),
        ],
        "service_request": [("A due date", card.due_date is not None)],
        "change": [("A due date", card.due_date is not None), ("The skills needed", skills)],
        "problem": [("A link to an incident", _linked_to_incident(card))],
        "defect": [("The skills needed", skills)],
    }
    return [(DESCRIPTION, described), *checks.get(card.type, [])]


def missing_information(card: Card) -> list[str]:
    """What the record still lacks before onward work can start (empty when complete)."""
    return [label for label, present in information_checklist(card) if not present]


# --- the schedule ----------------------------------------------------------------------------


@dataclass
class DispatchStatus:
    """Where the board stands against its dispatch schedule, in board-local times."""

    times: list[str]
    due_at: datetime | None  # the dispatch whose window holds now (board-local)
    next_at: datetime | None  # the next dispatch after now (board-local)
    today: date | None = None  # the board's date now

    @property
    def due(self) -> bool:
        return self.due_at is not None

    @property
    def next_label(self) -> str:
        if self.next_at is None:
            return ""
        when = self.next_at.strftime("%H:%M")
        return when if self.next_at.date() == self.today else f"tomorrow {when}"


def dispatch_status(board: Board, now: datetime | None = None) -> DispatchStatus:
    """The next dispatch time, and the one due now: a dispatch is due from 5 minutes before
    its time to 30 minutes after it. Times are the board's wall-clock times, so they follow
    daylight saving. `now` is naive UTC like every stored time."""
    times = list(board.dispatch_times or [])
    zone = ZoneInfo(board.timezone or "UTC")
    moment = (now or utcnow()).replace(tzinfo=UTC)
    local_today = moment.astimezone(zone).date()
    if not times:
        return DispatchStatus([], None, None, local_today)
    slots = sorted(
        datetime.combine(local_today + timedelta(days=offset), time.fromisoformat(at), zone)
        for offset in (-1, 0, 1, 2)
        for at in times
    )
    due = next((s for s in slots if s - DUE_BEFORE <= moment <= s + DUE_AFTER), None)
    upcoming = next((s for s in slots if s > moment), None)
    return DispatchStatus(times, due, upcoming, local_today)


def routable_columns(board: Board) -> list[BoardColumn]:
    """Where dispatch can send a card: every live column but done ones."""
    return [c for c in active_columns(board) if c.kind != "done"]
