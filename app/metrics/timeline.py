"""Each card's flow history rebuilt from the board's event log, as of a moment.

The log is the truth for every metric: where a card was and when, when it started and finished,
when it was blocked and why. Only the columns a metric needs are read (plain rows, no ORM
objects), so 100,000 events load in a fraction of a second.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.boards.models import Board, BoardColumn, Lane
from app.cards.models import Card
from app.events.models import Event
from app.extensions import db

FLOW_EVENTS = (
    "card.created",
    "card.moved",
    "card.blocked",
    "card.unblocked",
    "card.archived",
    "card.restored",
)


@dataclass(frozen=True)
class Step:
    """A column as the metrics see it."""

    id: int
    name: str
    kind: str
    position: int
    removed: bool
    committed: bool  # at or after the commitment point: entering it starts a card


@dataclass
class Stay:
    """A card's time in one column: [entered, left); left is None while it is still there."""

    column_id: int
    entered: datetime
    left: datetime | None = None


@dataclass
class Block:
    reason: str
    start: datetime
    end: datetime | None = None


@dataclass
class CardFlow:
    """One card's history up to the moment the timeline was built for."""

    id: int
    key: str
    title: str
    type: str | None
    lane_id: int
    created_at: datetime
    started_at: datetime | None = None  # first entry into a committed column
    finished_at: datetime | None = None  # last entry into done, None if reopened since
    column_id: int | None = None
    archived: bool = False
    stays: list[Stay] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    @property
    def in_progress(self) -> bool:
        return self.started_at is not None and self.finished_at is None and not self.archived


@dataclass(frozen=True)
class CardFilter:
    """Which cards a report covers: by lane, type and tag (None = all)."""

    lane_id: int | None = None
    type: str | None = None
    tag: str | None = None

    def admits(self, lane_id: int, card_type: str | None, tags: list) -> bool:
        if self.lane_id is not None and lane_id != self.lane_id:
            return False
        if self.type is not None and card_type != self.type:
            return False
        return self.tag is None or self.tag.lower() in (t.lower() for t in tags or ())


def board_steps(board: Board) -> dict[int, Step]:
    """Every column the board ever had, deleted ones too (old events point at them)."""
    columns = db.session.scalars(
        select(BoardColumn).where(BoardColumn.board_id == board.id).order_by(BoardColumn.position)
    ).all()
    live = [c for c in columns if c.removed_at is None]
    start = next((c for c in live if c.kind != "backlog"), None)
    steps = {}
    for column in columns:
        if column.removed_at is None:
            committed = start is not None and column.position >= start.position
        else:
            committed = column.kind != "backlog"
        steps[column.id] = Step(
            column.id,
            column.name,
            column.kind,
            column.position,
            column.removed_at is not None,
            committed,
        )
    return steps


def board_lanes(board: Board) -> dict[int, Lane]:
    lanes = db.session.scalars(select(Lane).where(Lane.board_id == board.id))
    return {lane.id: lane for lane in lanes}


class Timeline:
    """Replays the admitted cards' events in time order (the caller samples states between)."""

    def __init__(self, board: Board, steps: dict[int, Step], cards: CardFilter | None = None):
        self.board = board
        self.steps = steps
        self.filter = cards or CardFilter()
        self.cards: dict[int, CardFlow] = {}

    def load_cards(self) -> None:
        rows = db.session.execute(
            select(
                Card.id,
                Card.number,
                Card.title,
                Card.type,
                Card.tags,
                Card.lane_id,
                Card.created_at,
            ).where(Card.board_id == self.board.id)
        )
        for row in rows:
            if self.filter.admits(row.lane_id, row.type, row.tags):
                self.cards[row.id] = CardFlow(
                    row.id,
                    f"{self.board.key}-{row.number}",
                    row.title,
                    row.type,
                    row.lane_id,
                    row.created_at,
                )

    def events(self, until: datetime):
        """Flow events of the admitted cards before `until`, in time order."""
        query = (
            select(
                Event.card_id,
                Event.type,
                Event.at,
                Event.to_column_id,
                Event.data["reason"].as_string().label("reason"),
            )
            .where(
                Event.board_id == self.board.id,
                Event.type.in_(FLOW_EVENTS),
                Event.at < until,
            )
            .order_by(Event.at, Event.seq)
        )
        for row in db.session.execute(query):
            card = self.cards.get(row.card_id)
            if card is not None:
                yield card, row

    def apply(self, card: CardFlow, event) -> tuple[int | None, bool, int | None, bool]:
        """Apply one event; returns (column before, counted before, column after, counted after)
        where "counted" means the card stands on the board (in the CFD) at that point."""
        before = (card.column_id, self._counted(card))
        kind, at = event.type, event.at
        if kind in ("card.created", "card.moved"):
            self._enter(card, event.to_column_id, at)
        elif kind == "card.blocked":
            card.blocks.append(Block(event.reason or "(no reason)", at))
        elif kind == "card.unblocked":
            if card.blocks and card.blocks[-1].end is None:
                card.blocks[-1].end = at
        elif kind == "card.archived":
            card.archived = True
        elif kind == "card.restored":
            card.archived = False
        return before[0], before[1], card.column_id, self._counted(card)

    def _enter(self, card: CardFlow, column_id: int, at: datetime) -> None:
        if card.stays and card.stays[-1].left is None:
            if card.stays[-1].column_id == column_id:
                return  # a move within the column (lane or position)
            card.stays[-1].left = at
        card.stays.append(Stay(column_id, at))
        card.column_id = column_id
        step = self.steps.get(column_id)
        if step is None:
            return
        if step.committed and card.started_at is None:
            card.started_at = at
        if step.kind == "done":
            if card.finished_at is None:
                card.finished_at = at
        else:
            card.finished_at = None

    @staticmethod
    def _counted(card: CardFlow) -> bool:
        # An archived finished card stays in done (it was delivered); an archived unfinished
        # card was discarded and leaves the board.
        if card.column_id is None:
            return False
        return not card.archived or card.finished_at is not None
