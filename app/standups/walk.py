"""The order in which a stand-up walks the board (domain.md, "Stand-up").

Lane by lane from Expedite down; in each lane the columns right to left (nearest to done
first), committed work only (queue and active columns: backlog is not started, done is done).
Within a cell: blocked cards, then expedite (P1), then cards that have not moved since the last
stand-up, then cards older than the board's SLE, then the rest in the cell's own order.
Last, the open actions of post-incident reviews, then of retrospectives, that the walk has not
passed yet (wherever they wait, the backlog included), oldest first: an action nobody talks
about is not done.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.boards.models import Board
from app.boards.services import active_columns, board_lanes
from app.cards.age import card_age_days
from app.cards.models import Card
from app.cards.ordering import order_cards
from app.extensions import db
from app.metrics.flow import service_level_expectation
from app.retros.services import open_actions as open_retro_actions
from app.retros.services import period_text
from app.reviews.services import open_actions

WALKED_KINDS = ("queue", "active")
# Without an earlier stand-up, "not moved since the last one" means: not in the last day.
DEFAULT_SINCE = timedelta(days=1)

REASONS = {
    0: "blocked",
    1: "expedite",
    2: "not moved since the last stand-up",
    3: "older than the SLE",
    4: "",
}


@dataclass(frozen=True)
class WalkStep:
    card: Card
    reason: str  # why it comes where it does within its cell


def walk_rank(card: Card, lane_class: str, last_standup: datetime, now: datetime,
              sle: float | None) -> int:
    """0 blocked · 1 expedite · 2 not moved since the last stand-up · 3 past the SLE · 4 rest."""
    if card.blocked:
        return 0
    if lane_class == "expedite" or card.priority == 1:
        return 1
    if card.column_entered_at < last_standup:
        return 2
    age = card_age_days(card, now)
    if sle is not None and age is not None and age > sle:
        return 3
    return 4


def walk_order(board: Board, last_standup: datetime | None, now: datetime) -> list[WalkStep]:
    columns = [c for c in active_columns(board) if c.kind in WALKED_KINDS]
    lanes = sorted(board_lanes(board),
                   key=lambda lane: (lane.class_of_service != "expedite", lane.position))
    since = last_standup or now - DEFAULT_SINCE
    sle = service_level_expectation(board.id, now)
    cards = db.session.scalars(
        select(Card).where(
            Card.board_id == board.id,
            Card.archived_at.is_(None),
            Card.column_id.in_([c.id for c in columns]),
        )
    ).all()
    cells: dict[tuple[int, int], list[Card]] = {}
    for card in cards:
        cells.setdefault((card.column_id, card.lane_id), []).append(card)
    steps = []
    for lane in lanes:
        for column in reversed(columns):
            in_cell = order_cards(column.sort_policy, cells.get((column.id, lane.id), []), now, sle)
            ranked = sorted(
                enumerate(in_cell),
                key=lambda pair: (
                    walk_rank(pair[1], lane.class_of_service, since, now, sle), pair[0]
                ),
            )
            for _, card in ranked:
                rank = walk_rank(card, lane.class_of_service, since, now, sle)
                steps.append(WalkStep(card, REASONS[rank]))
    walked = {step.card.id for step in steps}
    steps += [WalkStep(card, f"open action from the review of {review.card.key}")
              for card, review in open_actions(board) if card.id not in walked]
    steps += [WalkStep(card, f"open action from the retrospective of {period_text(retro)}")
              for card, retro in open_retro_actions(board) if card.id not in walked]
    return steps
