"""What the board page shows: columns × lanes of ordered cards, WIP states, ages and filters."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import defer, selectinload

from app.boards.models import Board, BoardColumn, Lane
from app.boards.services import active_columns, board_lanes, commitment_point
from app.cards.age import card_age_days
from app.cards.models import Card
from app.cards.ordering import first_in, is_escalated, order_cards, reliability_lanes
from app.cards.wip import column_counts, lane_counts, wip_state
from app.clock import utcnow
from app.database import rows
from app.extensions import db
from app.metrics.flow import service_level_expectation
from app.swarms.services import swarm_counts

FILTER_KEYS = ("q", "owner", "type", "tag", "priority", "lane", "blocked")
# A done column shows recent finishes only; the rest stay in the history and the metrics.
DONE_SHOWN_DAYS = 7
DONE_SHOWN_PER_CELL = 8


@dataclass
class CardFilter:
    """The board's filter bar; every field is optional and they combine with AND."""

    q: str = ""
    owner: str = ""
    type: str = ""
    tag: str = ""
    priority: str = ""
    lane: str = ""
    blocked: str = ""

    @classmethod
    def from_args(cls, args) -> "CardFilter":
        return cls(**{k: (args.get(k) or "").strip()[:100] for k in FILTER_KEYS})

    @property
    def active(self) -> bool:
        return any(getattr(self, k) for k in FILTER_KEYS)

    def as_args(self) -> dict:
        return {k: getattr(self, k) for k in FILTER_KEYS if getattr(self, k)}

    def matches(self, card: Card, me_username: str | None = None) -> bool:
        if self.q:
            needle = self.q.lower()
            haystack = " ".join(
                [card.key.lower(), card.title.lower(), card.description.lower(), *card.tags]
            )
            if needle not in haystack:
                return False
        if self.owner:
            wanted = me_username if self.owner == "me" else self.owner
            if self.owner == "none":
                if card.owner is not None:
                    return False
            elif card.owner is None or card.owner.username != wanted:
                return False
        if self.type and card.type != self.type:
            return False
        if self.tag and self.tag.lower() not in card.tags:
            return False
        if self.priority and f"P{card.priority}" != self.priority.upper():
            return False
        if self.lane and str(card.lane_id) != self.lane:
            return False
        if self.blocked == "yes" and not card.blocked:
            return False
        return not (self.blocked == "no" and card.blocked)


@dataclass
class CardView:
    card: Card
    age_days: float | None
    aged: bool
    escalated: bool
    swarm_people: int = 0  # people in the card's open swarm


@dataclass
class ColumnView:
    column: BoardColumn
    count: int
    state: str
    is_commitment_point: bool


@dataclass
class LaneView:
    lane: Lane
    count: int
    state: str


@dataclass
class BoardView:
    board: Board
    seq: int
    columns: list[ColumnView]
    lanes: list[LaneView]
    cells: dict[tuple[int, int], list[CardView]]
    sle_days: float | None
    now: datetime
    filter: CardFilter
    shown: int = 0
    total: int = 0
    tags: list[str] = field(default_factory=list)
    earlier_done: dict[tuple[int, int], int] = field(default_factory=dict)

    def cell(self, column_id: int, lane_id: int) -> list[CardView]:
        return self.cells.get((column_id, lane_id), [])

    def hidden_in(self, column_id: int, lane_id: int) -> int:
        return self.earlier_done.get((column_id, lane_id), 0)


def board_view(
    board: Board,
    card_filter: CardFilter | None = None,
    me_username: str | None = None,
    now: datetime | None = None,
) -> BoardView:
    """Build the board page's model. WIP counts ignore the filter: a limit is about the real
    work in the column, not what the viewer chose to see."""
    # The sequence number is read first, so the view shows at least what `seq` claims.
    seq = db.session.scalar(select(Board.last_seq).where(Board.id == board.id))
    now = now or utcnow()
    card_filter = card_filter or CardFilter()
    columns = active_columns(board)
    lanes = board_lanes(board)
    cards = db.session.scalars(_live_cards(board)).all()  # with descriptions: the API shows them
    sle = service_level_expectation(board.id, now)
    start = commitment_point(board, columns)
    column_count = column_counts(board.id)
    lane_count = lane_counts(board.id)

    grouped: dict[tuple[int, int], list[Card]] = {}
    tags: set[str] = set()
    for card in cards:
        tags.update(card.tags)
        if card_filter.matches(card, me_username):
            grouped.setdefault((card.column_id, card.lane_id), []).append(card)
    cells, earlier_done = _arrange(grouped, columns, now, sle, swarm_counts(board.id),
                                   reliability_lanes(board.id))

    return BoardView(
        board=board,
        seq=seq,
        columns=column_views(columns, column_count, start),
        lanes=lane_views(lanes, lane_count),
        cells=cells,
        sle_days=sle,
        now=now,
        filter=card_filter,
        shown=sum(len(views) for views in cells.values()),
        total=sum(column_count.get(c.id, 0) for c in columns),
        tags=sorted(tags),
        earlier_done=earlier_done,
    )


def column_views(
    columns: list[BoardColumn], counts: dict[int, int], start: BoardColumn | None,
    only: set[int] | None = None,
) -> list[ColumnView]:
    """Column headers (all, or those in `only`): count, WIP state, commitment point."""
    return [
        ColumnView(
            column=c,
            count=counts.get(c.id, 0),
            state=wip_state(counts.get(c.id, 0), c.wip_limit),
            is_commitment_point=start is not None and c.id == start.id,
        )
        for c in columns
        if only is None or c.id in only
    ]


def lane_views(lanes: list[Lane], counts: dict[int, int]) -> list[LaneView]:
    return [
        LaneView(lane=ln, count=counts.get(ln.id, 0), state=wip_state(counts.get(ln.id, 0),
                                                                     ln.wip_limit))
        for ln in lanes
    ]


def card_view(card: Card, now: datetime, sle: float | None,
              swarm_people: int | None = None) -> CardView:
    """One card's view; a single card (a push) asks for its swarm's size itself."""
    age = card_age_days(card, now)
    if swarm_people is None:
        swarm_people = swarm_counts(card.board_id, card.id).get(card.id, 0)
    return CardView(
        card=card,
        age_days=age,
        aged=sle is not None and age is not None and age > sle,
        escalated=is_escalated(card, now, sle),
        swarm_people=swarm_people,
    )


def cells_view(
    board: Board, cells: set[tuple[int, int]], columns: list[BoardColumn], now: datetime,
    sle: float | None,
) -> BoardView:
    """The model of some cells only, unfiltered (no headers), for a push that re-renders them."""
    cards = db.session.scalars(
        _live_cards(board)
        .where(or_(*(and_(Card.column_id == c, Card.lane_id == ln) for c, ln in cells)))
        .options(defer(Card.description))
    ).all() if cells else []
    grouped: dict[tuple[int, int], list[Card]] = {}
    for card in cards:
        grouped.setdefault((card.column_id, card.lane_id), []).append(card)
    shown, earlier_done = _arrange(grouped, columns, now, sle,
                                   swarm_counts(board.id) if grouped else {},
                                   reliability_lanes(board.id) if grouped else set())
    return BoardView(
        board=board, seq=board.last_seq, columns=[], lanes=[], cells=shown, sle_days=sle,
        now=now, filter=CardFilter(), earlier_done=earlier_done,
    )


# Built once, run with parameters: every pushed move asks (app/database.py says why).
_IN_CELL = (
    Card.board_id == bindparam("board"), Card.column_id == bindparam("column"),
    Card.lane_id == bindparam("lane"), Card.archived_at.is_(None), Card.id != bindparam("card"),
)
_NEXT_BY_RANK = (
    select(Card.number)
    .where(*_IN_CELL, or_(Card.rank > bindparam("rank"),
                          and_(Card.rank == bindparam("rank"), Card.id > bindparam("card"))))
    .order_by(Card.rank, Card.id)
    .limit(1)
)
_OTHERS_IN_CELL = select(Card).where(*_IN_CELL).options(defer(Card.description))


def next_in_cell(card: Card, column: BoardColumn, now: datetime, sle: float | None) -> int | None:
    """The number of the card shown right after `card` in its (not done) cell; None if last."""
    cell = {"board": card.board_id, "column": card.column_id, "lane": card.lane_id,
            "card": card.id}
    first = first_in(reliability_lanes(card.board_id), card.lane_id)
    if column.sort_policy == "manual" and not first:  # the stored order: one number is enough
        return rows(db.session, _NEXT_BY_RANK, {**cell, "rank": card.rank}).scalar()
    others = db.session.scalars(_OTHERS_IN_CELL, cell)
    ordered = order_cards(column.sort_policy, [card, *others], now, sle, first)
    index = ordered.index(card)
    return ordered[index + 1].number if index + 1 < len(ordered) else None


def _live_cards(board: Board):
    return (
        select(Card)
        .where(Card.board_id == board.id, Card.archived_at.is_(None))
        .options(selectinload(Card.owner))
    )


def _arrange(grouped: dict[tuple[int, int], list[Card]], columns: list[BoardColumn],
             now: datetime, sle: float | None, swarms: dict[int, int],
             reliability: set[int] | None):
    """Cells in display order (done cells cut to their recent finishes; reliability work
    first in the lanes `reliability` names, every lane if None), and how many each done cell
    leaves out."""
    kind_of = {c.id: c.kind for c in columns}
    policy_of = {c.id: c.sort_policy for c in columns}
    cells: dict[tuple[int, int], list[CardView]] = {}
    earlier_done: dict[tuple[int, int], int] = {}
    for (column_id, lane_id), group in grouped.items():
        if kind_of.get(column_id) == "done":
            group, earlier = _recent_finishes(group, now)
            if earlier:
                earlier_done[(column_id, lane_id)] = earlier
        ordered = order_cards(policy_of.get(column_id, "manual"), group, now, sle,
                              first_in(reliability, lane_id))
        cells[(column_id, lane_id)] = [card_view(card, now, sle, swarms.get(card.id, 0))
                                       for card in ordered]
    return cells, earlier_done


def _recent_finishes(cards: list[Card], now: datetime) -> tuple[list[Card], int]:
    """A done cell's latest finishes (last week, a handful at most) and how many are left out."""
    since = now - timedelta(days=DONE_SHOWN_DAYS)
    recent = sorted(
        (c for c in cards if (c.finished_at or c.column_entered_at) >= since),
        key=lambda c: c.finished_at or c.column_entered_at,
        reverse=True,
    )[:DONE_SHOWN_PER_CELL]
    return recent, len(cards) - len(recent)
