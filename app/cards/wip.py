"""WIP limits: how full a column or lane is, and whether a card may enter it.

A column's limit counts its cards in every lane. A lane's limit counts its cards that are in
progress (queue and active columns). Archived cards count nowhere.
"""

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from app.boards.models import BoardColumn, Lane
from app.cards.models import Card
from app.database import rows
from app.errors import WipLimitReached
from app.extensions import db

IN_PROGRESS_KINDS = ("queue", "active")


def wip_state(count: int, limit: int | None) -> str:
    """'none' without a limit, else 'ok' below it, 'at' on it, 'over' past it."""
    if limit is None:
        return "none"
    if count < limit:
        return "ok"
    return "at" if count == limit else "over"


def column_counts(board_id: int, column_id: int | None = None) -> dict[int, int]:
    """Cards per column (every lane, archived ones aside); one column's when given."""
    if column_id is None:
        return dict(rows(db.session, _PER_COLUMN, {"board": board_id}).all())
    return dict(rows(db.session, _IN_COLUMN, {"board": board_id, "column": column_id}).all())


def lane_counts(board_id: int, lane_id: int | None = None) -> dict[int, int]:
    """Cards per lane in queue and active columns; one lane's when given."""
    if lane_id is None:
        return dict(rows(db.session, _PER_LANE, {"board": board_id}).all())
    return dict(rows(db.session, _IN_LANE, {"board": board_id, "lane": lane_id}).all())


def board_counts(board_ids: list[int]) -> dict[int, int]:
    """Cards in progress (queue and active columns) per board."""
    return _counted(
        Card.board_id, Card.board_id.in_(board_ids), BoardColumn.kind.in_(IN_PROGRESS_KINDS)
    )


def _counting(key, *conditions):
    return (
        select(key, func.count(Card.id))
        .join(BoardColumn, BoardColumn.id == Card.column_id)
        .where(Card.archived_at.is_(None), *conditions)
        .group_by(key)
    )


def _counted(key, *conditions) -> dict[int, int]:
    return dict(db.session.execute(_counting(key, *conditions)).all())


# Built once, run with parameters: every move and push counts (app/database.py says why).
_PER_COLUMN = _counting(Card.column_id, Card.board_id == bindparam("board"))
_IN_COLUMN = _PER_COLUMN.where(Card.column_id == bindparam("column"))
_PER_LANE = _counting(
    Card.lane_id, Card.board_id == bindparam("board"), BoardColumn.kind.in_(IN_PROGRESS_KINDS)
)
_IN_LANE = _PER_LANE.where(Card.lane_id == bindparam("lane"))


@dataclass
class Override:
    """A hard-with-override limit passed with a reason; recorded as its own event."""

    scope: str  # "column" or "lane"
    name: str
    limit: int
    count: int
    reason: str


def check_room(
    card: Card | None,
    column: BoardColumn,
    lane: Lane,
    override_reason: str | None = None,
) -> tuple[list[Override], list[str]]:
    """Decide whether `card` (None for a new card) may stand in `column` × `lane`.

    Returns the overrides used and the soft limits passed; raises WipLimitReached when a
    hard limit, or a hard-with-override limit without a reason, would be passed.
    """
    overrides: list[Override] = []
    soft: list[str] = []
    checks = []
    entering = card is None or card.column_id != column.id or card.archived_at is not None
    if entering and column.wip_limit is not None:
        count = column_counts(column.board_id, column.id).get(column.id, 0)
        checks.append(("column", column.name, column.wip_limit, column.wip_policy, count))
    if lane.wip_limit is not None and column.kind in IN_PROGRESS_KINDS:
        already_counted = (
            card is not None
            and card.archived_at is None
            and card.lane_id == lane.id
            and card.column.kind in IN_PROGRESS_KINDS
        )
        if not already_counted:
            count = lane_counts(column.board_id, lane.id).get(lane.id, 0)
            checks.append(("lane", lane.name, lane.wip_limit, lane.wip_policy, count))

    for scope, name, limit, policy, count in checks:
        if limit is None or count + 1 <= limit:
            continue
        label = f"{scope.capitalize()} {name!r} is at its WIP limit ({count}/{limit})"
        if policy == "soft":
            soft.append(f"{scope}:{name}")
        elif policy == "hard":
            raise WipLimitReached(f"{label}; finish or move a card out first.")
        elif override_reason and override_reason.strip():
            overrides.append(Override(scope, name, limit, count, override_reason.strip()[:300]))
        else:
            raise WipLimitReached(
                f"{label}; give a reason to override the limit.", needs_reason=True
            )
    return overrides, soft
