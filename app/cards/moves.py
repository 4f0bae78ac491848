"""Moving cards between columns, lanes and positions, under WIP limits and version checks."""

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.models import User
from app.boards.access import lock_board, require_role
from app.boards.models import BoardColumn, Lane
from app.boards.services import commitment_point
from app.cards.models import RELIABILITY_TYPES, Card
from app.cards.ordering import first_in, mixed, reliability_lanes
from app.cards.wip import Override, check_room
from app.clock import utcnow
from app.database import read_under_write_lock, rows
from app.errors import Invalid, StaleVersion
from app.events.services import record_event
from app.extensions import db

RANK_GAP = 1 << 16


def check_version(card: Card, version) -> None:
    """Refuse a change made against an older version of the card (optimistic locking)."""
    if version is None or version == "":
        return
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise Invalid(f"Version must be a whole number (got {version!r}).") from None
    if version != card.version:
        who = "someone else"
        raise StaleVersion(
            f"{card.key} was changed by {who} since you loaded it (version {version}, now "
            f"{card.version}); here is the current card.",
            card,
        )


def locked_card(card: Card) -> Card:
    """Lock the card's board for this transaction and re-read the card (unless what this
    transaction read is current already)."""
    lock_board(card.board)
    if not read_under_write_lock(db.session):
        db.session.refresh(card)
    return card


# Built once, run with parameters: every move asks (app/database.py says why).
_SIBLINGS = (
    select(Card.id, Card.rank, Card.type)
    .where(Card.column_id == bindparam("column"), Card.lane_id == bindparam("lane"),
           Card.archived_at.is_(None), Card.id != bindparam("card"))
    .order_by(Card.rank, Card.id)
)


def rank_in_cell(card: Card | None, column: BoardColumn, lane: Lane, position) -> int:
    """A rank placing the card at `position` (0-based, None = last) among the cell's cards.

    One row update in the common case; when two neighbours' ranks touch, the cell is
    renumbered once with wide gaps.
    """
    moving = card.id if card is not None and card.id is not None else 0  # 0: no card's id
    siblings = rows(
        db.session, _SIBLINGS, {"column": column.id, "lane": lane.id, "card": moving}
    ).all()
    # While an error budget is low the cell shows reliability work first (app/slos): the
    # position is one in that order.
    if card is not None and mixed([card, *siblings]) and first_in(
            reliability_lanes(column.board_id), lane.id):
        siblings.sort(key=lambda row: row.type not in RELIABILITY_TYPES)  # stable: by rank
    if position is None or position == "":
        index = len(siblings)
    else:
        try:
            index = max(0, min(int(position), len(siblings)))
        except (TypeError, ValueError):
            raise Invalid(f"Position must be a whole number (got {position!r}).") from None
    before = siblings[index - 1].rank if index > 0 else None
    after = siblings[index].rank if index < len(siblings) else None
    if before is None and after is None:
        return RANK_GAP
    if after is None:
        return before + RANK_GAP
    if before is None:
        return after - RANK_GAP
    if after - before > 1:
        return (before + after) // 2
    return _rebalance(siblings, index)


def _rebalance(siblings, index: int) -> int:
    # Plain UPDATEs: renumbering keeps the order, so it must not bump anyone's version.
    table = Card.__table__
    for position, row in enumerate(siblings):
        slot = position if position < index else position + 1
        db.session.execute(
            update(table).where(table.c.id == row.id).values(rank=(slot + 1) * RANK_GAP)
        )
    db.session.expire_all()
    return (index + 1) * RANK_GAP


def record_overrides(board, actor, card, overrides: list[Override], at) -> None:
    for override in overrides:
        record_event(
            board,
            "wip.overridden",
            actor=actor,
            card=card,
            at=at,
            scope=override.scope,
            name=override.name,
            limit=override.limit,
            count=override.count,
            reason=override.reason,
        )


def flow_dates(card: Card, column: BoardColumn, at: datetime) -> dict:
    """The card's start and finish on entering `column`: started on first entering the
    commitment point or later; finished on entering done, reopened on leaving it."""
    dates = {"started_at": card.started_at, "finished_at": card.finished_at}
    if card.started_at is None:
        with db.session.no_autoflush:  # a card being created must not be flushed half-made
            start = commitment_point(card.board)
        if start is not None and column.position >= start.position:
            dates["started_at"] = at
    if column.kind == "done":
        dates["finished_at"] = card.finished_at or at
    else:
        dates["finished_at"] = None
    return dates


def apply_flow_dates(card: Card, column: BoardColumn, at: datetime) -> None:
    for name, value in flow_dates(card, column, at).items():
        setattr(card, name, value)


# A move writes its card with one UPDATE of the fields a move changes, checked against the
# version the move read, rather than through the ORM's flush: the unit of work spent about
# half a millisecond on the card's relationships and cascades, a sixth of a whole move.
_cards = Card.__table__
_PLACE = ("column_id", "lane_id", "rank", "column_entered_at", "started_at", "finished_at")
_PLACE_CARD = (
    _cards.update()
    .where(_cards.c.id == bindparam("card"), _cards.c.version == bindparam("seen"))
    .values(version=bindparam("bumped"), **{name: bindparam(name) for name in _PLACE})
)


def place_card(card: Card, column: BoardColumn, lane: Lane, fields: dict) -> None:
    """Store the card in its new place (`fields`: those of _PLACE that change besides column
    and lane) and bump its version, unless nothing changed; the card then reads as stored."""
    db.session.flush()  # whatever else changed the card goes first: its version is then current
    fields = {"column_id": column.id, "lane_id": lane.id, **fields}
    if all(getattr(card, name) == value for name, value in fields.items()):
        return  # already there: nothing to write, and the version stays
    values = {name: getattr(card, name) for name in _PLACE} | fields
    bumped = card.version + 1
    written = rows(db.session, _PLACE_CARD,
                   {**values, "card": card.id, "seen": card.version, "bumped": bumped})
    if written.rowcount != 1:
        raise StaleVersion(f"{card.key} was changed by someone else meanwhile; here is the "
                           f"current card.", card)
    for name, value in {**values, "version": bumped, "column": column, "lane": lane}.items():
        set_committed_value(card, name, value)


def move_card(
    card: Card,
    actor: User,
    *,
    column: BoardColumn,
    lane: Lane | None = None,
    position=None,
    version=None,
    override_reason: str | None = None,
    at: datetime | None = None,
    swarm: str | None = None,
) -> Card:
    """Move a card to a column and lane (and position within them).

    Enforces: the mover is a member; the card is live and at the version the mover saw; the
    target is on the card's board; the column's and lane's WIP limits by their policy; a card
    finished with an open swarm says what becomes of the swarm (`swarm`: resolve, cancel, keep).
    """
    board = card.board
    require_role(board, actor, "member")
    card = locked_card(card)
    if card.archived_at is not None:
        raise Invalid(f"{card.key} is archived; restore it before moving it.")
    check_version(card, version)
    lane = lane or card.lane
    if column.board_id != card.board_id or lane.board_id != card.board_id:
        raise Invalid(f"{card.key} can only move within board {board.key}.")
    if column.removed_at is not None:
        raise Invalid(f"Column {column.name!r} has been deleted.")
    at = at or utcnow()
    overrides, soft = check_room(card, column, lane, override_reason)
    from_column, from_lane = card.column, card.lane
    entering = column.id != from_column.id
    fields = {}
    if column.sort_policy == "manual" or entering or lane.id != from_lane.id:
        fields["rank"] = rank_in_cell(card, column, lane, position)
    if entering:
        fields["column_entered_at"] = at
        fields.update(flow_dates(card, column, at))
    place_card(card, column, lane, fields)
    record_event(
        board,
        "card.moved",
        actor=actor,
        card=card,
        at=at,
        from_column=from_column,
        to_column=column,
        from_lane=from_lane,
        to_lane=lane,
        from_column_name=from_column.name,
        to_column_name=column.name,
        from_lane_name=from_lane.name,
        to_lane_name=lane.name,
        version=card.version,
        over_soft_limit=soft,
        # A finished card's open swarm: what becomes of it; the reason for passing a limit or
        # starting work under a low error budget (app/slos).
        decisions={"swarm": swarm, "override_reason": override_reason},
    )
    record_overrides(board, actor, card, overrides, at)
    return card
