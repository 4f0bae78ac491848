"""Each card's flow history rebuilt from the board's event log, as of a moment.

The log is the truth for every metric: where a card was and when, when it started and finished,
when it was blocked and why. Only the columns a metric needs are read (plain rows, no ORM
objects), so 100,000 events load in a fraction of a second.
"""

from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

from sqlalchemy import String, case, func, literal, select, type_coerce

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
    # (column id, entered at), in order; a stay lasts until the next one begins.
    stays: list[tuple[int, datetime]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    @property
    def in_progress(self) -> bool:
        return self.started_at is not None and self.finished_at is None and not self.archived

    @property
    def on_board(self) -> bool:
        """Counted in the CFD: an archived finished card stays in done (it was delivered); an
        archived unfinished card was discarded and leaves the board."""
        return self.column_id is not None and (not self.archived or self.finished_at is not None)


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
        # Cards at rest since before `settled_before`: their events are not replayed.
        self.settled: set[int] = set()

    def load_cards(self, settled_before: datetime | None = None) -> None:
        """Read the admitted cards. With `settled_before`, cards whose last flow event came
        before it and that are done or archived (and not blocked) are set to their final state
        from the card table instead of being replayed: nothing they did can show after that
        moment except where they stand (a done card's place in the CFD)."""
        # Tags are JSON: read them only when filtering by tag.
        tags = Card.tags if self.filter.tag is not None else literal(None).label("tags")
        rows = db.session.connection().execute(
            select(
                Card.id, Card.number, Card.title, Card.type, tags, Card.lane_id, Card.created_at,
                Card.column_id, Card.archived_at, Card.blocked,
            ).where(Card.board_id == self.board.id)
        )
        quiet = self._quiet_since(settled_before) if settled_before is not None else {}
        key, admits, steps = self.board.key, self.filter.admits, self.steps
        for (card_id, number, title, card_type, card_tags, lane_id, created_at, column_id,
             archived_at, blocked) in rows.all():
            if not admits(lane_id, card_type, card_tags):
                continue
            card = CardFlow(card_id, f"{key}-{number}", title, card_type, lane_id, created_at)
            self.cards[card_id] = card
            last = quiet.get(card_id)
            step = steps.get(column_id)
            if last is None or blocked or step is None:
                continue
            if step.kind == "done" or archived_at is not None:
                card.column_id, card.archived = column_id, archived_at is not None
                card.finished_at = last if step.kind == "done" else None
                self.settled.add(card_id)

    def _quiet_since(self, moment: datetime) -> dict[int, datetime]:
        """Cards whose last flow event came before `moment`, with when it came."""
        last = func.max(Event.at)
        rows = db.session.connection().execute(
            select(Event.card_id, type_coerce(last, String))
            .where(Event.board_id == self.board.id, Event.type.in_(FLOW_EVENTS))
            .group_by(Event.card_id)
            .having(last < moment)
        )
        parse = datetime.fromisoformat
        return {
            card_id: at if isinstance(at, datetime) else parse(at)
            for card_id, at in rows.all() if card_id is not None
        }

    def events(self, until: datetime) -> list[tuple]:
        """(card, type, at, to column, reason) for the admitted cards' flow events before
        `until`, in time order."""
        query = (
            select(
                Event.card_id,
                Event.type,
                # Read as text on SQLite and parsed below: SQLAlchemy's own parsing of
                # SQLite date strings is several times slower (PostgreSQL gives datetimes).
                type_coerce(Event.at, String),
                Event.to_column_id,
                case(
                    (Event.type == "card.blocked", Event.data["reason"].as_string()),
                ).label("reason"),
            )
            .where(
                Event.board_id == self.board.id,
                Event.type.in_(FLOW_EVENTS),
                Event.at < until,
            )
            .order_by(Event.seq)  # the board's index; sorted by time below
        )
        replayed = {i: card for i, card in self.cards.items() if i not in self.settled}
        if len(replayed) < len(self.cards) // 2:  # few left: let the database pick them
            query = query.where(Event.card_id.in_(replayed))
        parse = datetime.fromisoformat
        events = [
            (replayed[card_id], kind, at if isinstance(at, datetime) else parse(at), column,
             reason)
            for card_id, kind, at, column, reason in db.session.connection().execute(query).all()
            if card_id in replayed
        ]
        events.sort(key=itemgetter(2))  # stable: simultaneous events keep their log order
        return events

    def apply(self, card: CardFlow, kind: str, at: datetime, column_id, reason) -> None:
        """Apply one event of `events` to its card."""
        if kind in ("card.created", "card.moved"):
            self._enter(card, column_id, at)
        elif kind == "card.blocked":
            card.blocks.append(Block(reason or "(no reason)", at))
        elif kind == "card.unblocked":
            if card.blocks and card.blocks[-1].end is None:
                card.blocks[-1].end = at
        elif kind == "card.archived":
            card.archived = True
        elif kind == "card.restored":
            card.archived = False

    def _enter(self, card: CardFlow, column_id: int, at: datetime) -> None:
        if card.column_id == column_id:
            return  # a move within the column (lane or position)
        card.stays.append((column_id, at))
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

