"""History import and export in ActionableAgile's CSV format.

The import replays every item through the card services (create, move, block, unblock, archive,
each with `at=`), all items interleaved in time order, so the event log reads as if the work had
happened on the board and every metric works on it. A file with any bad row imports nothing.
The export writes the same format, plus the attributes that let a round trip keep the metrics.
"""

import csv
import io
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import func, select

from app.accounts.models import User
from app.boards.access import require_role
from app.boards.models import CLASSES_OF_SERVICE, Board, BoardColumn
from app.boards.services import (
    active_columns,
    add_column,
    add_lane,
    board_lanes,
    commitment_point,
    create_board,
)
from app.cards.models import Card
from app.cards.moves import move_card
from app.cards.services import archive_card, block_card, create_card, unblock_card
from app.errors import DomainError, Invalid
from app.events.hooks import muted
from app.events.models import Event
from app.extensions import db
from app.history.csvformat import (
    BadRow,
    Header,
    ImportRejected,
    Item,
    decode,
    read_header,
    read_item,
    read_rows,
    shown,
)
from app.text import spreadsheet_safe

# Recorded as the reason of every WIP limit the replayed history passes (wip.overridden).
HISTORIC_OVERRIDE = "History import: the imported history passed this limit"
# Stages between start and done whose names say they wait become queue columns on a new board.
QUEUE_WORDS = ("ready", "waiting", "awaiting", "queue", "queued", "pending", "done")
EXPORT_ATTRIBUTES = ("Type", "Lane", "Tags", "Blocked", "Archived", "Moves")


@dataclass
class ImportResult:
    board: Board
    board_created: bool
    cards: int
    events: int
    overrides: int
    stages: list[str]
    ignored_columns: list[str] = field(default_factory=list)


def import_history(
    board: Board | None,
    data: bytes | str,
    actor: User,
    *,
    start_stage: str | None = None,
    done_stage: str | None = None,
    stage_count: int | None = None,
    queue_stages: list[str] | None = None,
    board_key: str | None = None,
    board_name: str | None = None,
    timezone: str = "UTC",
) -> ImportResult:
    """Import a history file into `board` (owners only), or into a new board `board_key` laid
    out from the header when `board` is None. All or nothing: every row is read and checked
    first, and any problem raises ImportRejected listing them all; the caller commits.

    Stages are the columns after Name up to the first known attribute (Type, Lane, Class of
    service, Tags, Blocked, Archived, Moves), or the first `stage_count` of them. On an existing
    board they must name its columns in board order, and its column kinds decide where work
    starts and is done (a named start or done stage that disagrees is refused). A new board
    gets backlog columns before the start stage (default: the 2nd), done columns from the done
    stage (default: the last) on, and queue or active columns between (`queue_stages`, or
    guessed from names such as "Ready to…" or "Waiting for…").
    """
    if board is not None:
        require_role(board, actor, "owner")
    elif not (board_key or "").strip() or not (board_name or "").strip():
        raise Invalid("A new board needs a key and a name.")
    elif timezone not in available_timezones() and timezone != "UTC":
        raise Invalid(f"Unknown time zone {timezone!r}.")
    rows = read_rows(decode(data))
    header = read_header(rows[0][1], stage_count)
    if board is not None:
        zone = ZoneInfo(board.timezone or "UTC")
        columns = _board_columns(board, header, start_stage, done_stage)
        lane_names = {lane.name.lower() for lane in board_lanes(board)}
    else:
        zone = ZoneInfo(timezone)
        kinds = stage_kinds(header.stages, start_stage, done_stage, queue_stages)
        lane_names = None
    items = _read_items(rows[1:], header, zone, board, lane_names)

    before = board.last_seq if board is not None else 0
    if board is None:
        with muted(db.session):  # a board that did not exist has nobody watching it
            board, columns = _new_board(actor, board_key, board_name, timezone, header, kinds,
                                        items)
            _replay(board, actor, items, columns)
    else:
        _replay(board, actor, items, columns)
    overrides = db.session.scalar(
        select(func.count(Event.id)).where(
            Event.board_id == board.id, Event.seq > before, Event.type == "wip.overridden"
        )
    )
    return ImportResult(
        board=board,
        board_created=before == 0,
        cards=len(items),
        events=board.last_seq - before,
        overrides=overrides,
        stages=header.stages,
        ignored_columns=header.ignored,
    )


def stage_kinds(
    stages: list[str],
    start_stage: str | None = None,
    done_stage: str | None = None,
    queue_stages: list[str] | None = None,
) -> list[str]:
    """Column kinds for a new board laid out from a header's stages."""
    start = _stage_index(stages, start_stage, 1, "start")
    done = _stage_index(stages, done_stage, len(stages) - 1, "done")
    if start >= done:
        raise Invalid(
            f"The start stage ({stages[start]!r}) must come before the done stage "
            f"({stages[done]!r})."
        )
    waiting = {name.strip().lower() for name in queue_stages or [] if name.strip()}
    for name in waiting:
        index = next((i for i, s in enumerate(stages) if s.lower() == name), None)
        if index is None or not start <= index < done:
            raise Invalid(
                f"Queue stage {name!r} must be one of the stages from {stages[start]!r} up to "
                f"{stages[done]!r}."
            )
    kinds = []
    for index, name in enumerate(stages):
        if index < start:
            kinds.append("backlog")
        elif index >= done:
            kinds.append("done")
        elif waiting:
            kinds.append("queue" if name.lower() in waiting else "active")
        else:
            words = name.lower().replace("-", " ").split()
            kinds.append("queue" if any(w in words for w in QUEUE_WORDS) else "active")
    return kinds


def _stage_index(stages: list[str], name: str | None, default: int, what: str) -> int:
    if not (name or "").strip():
        return default
    wanted = name.strip().lower()
    for index, stage in enumerate(stages):
        if stage.lower() == wanted:
            return index
    raise Invalid(
        f"The {what} stage {name.strip()!r} is not one of the file's stages: "
        f"{', '.join(stages)}."
    )


def _board_columns(board: Board, header: Header, start_stage, done_stage) -> list[BoardColumn]:
    """The board's column for each stage, in board order; where work starts and is done is the
    board's own choice (its column kinds), and a named stage must agree with it."""
    columns = active_columns(board)
    by_name = {column.name.lower(): column for column in columns}
    problems = []
    mapped = []
    for name in header.stages:
        column = by_name.get(name.lower())
        if column is None:
            problems.append(
                f"Stage {name!r} is not a column of {board.key} (its columns: "
                f"{', '.join(c.name for c in columns) or 'none yet'})."
            )
        elif mapped and column.position < mapped[-1].position:
            problems.append(
                f"Stage {name!r} comes after {mapped[-1].name!r} in the file but before it on "
                f"{board.key}; stages must follow the board's column order."
            )
        if column is not None:
            mapped.append(column)
    if problems:
        raise ImportRejected([(1, problem) for problem in problems])
    commitment = commitment_point(board, columns)
    started = next(
        (c for c in mapped if commitment and c.position >= commitment.position), None
    )
    finished = next((c for c in mapped if c.kind == "done"), None)
    for named, actual, what, rule in (
        (start_stage, started, "start", "work starts at its first column after the backlog"),
        (done_stage, finished, "done", "work is done in its first done column"),
    ):
        if (named or "").strip():
            index = _stage_index(header.stages, named, 0, what)
            if actual is None or mapped[index].id != actual.id:
                raise Invalid(
                    f"On {board.key} {rule}, which in this file is "
                    f"{actual.name if actual else 'no stage'!r}, not {named.strip()!r}. Change "
                    f"the column kinds in the board's settings, or leave the {what} stage empty."
                )
    return mapped


def _read_items(rows, header: Header, zone, board: Board | None, lane_names) -> list[Item]:
    """Every row read and checked; ImportRejected lists every bad one."""
    items: list[Item] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        reasons = []
        source_id = cells[0].strip() if cells else ""
        if source_id and source_id in seen:
            reasons.append(f"the ID {source_id!r} is used on line {seen[source_id]} already")
        seen.setdefault(source_id, line)
        try:
            item = read_item(line, cells, header, zone)
        except BadRow as error:
            reasons.append(str(error))
            item = None
        if item and item.lane and lane_names is not None and item.lane.lower() not in lane_names:
            reasons.append(f"Lane: {item.lane!r} is not a lane of {board.key}")
        if reasons:
            problems.append((line, "; ".join(reasons)))
        else:
            items.append(item)
    if problems:
        raise ImportRejected(problems)
    return items


def _new_board(actor, key, name, timezone, header: Header, kinds, items) -> tuple:
    """A board laid out from the header, created at the first moment of its history."""
    at = min(item.entries[0][0] for item in items)
    board = create_board(actor, name=name, key=key, template=None, timezone=timezone, at=at)
    columns = [
        add_column(board, actor, name=stage, kind=kind, at=at)
        for stage, kind in zip(header.stages, kinds, strict=True)
    ]
    existing = {lane.name.lower() for lane in board_lanes(board)}
    wanted = {}
    for item in items:
        if item.lane and item.lane.lower() not in existing:
            wanted.setdefault(item.lane.lower(), item.lane)
    order = {cos: rank for rank, cos in enumerate(CLASSES_OF_SERVICE)}
    for lane in sorted(wanted.values(), key=lambda n: order.get(_class_of_service(n), 99)):
        add_lane(board, actor, name=lane, class_of_service=_class_of_service(lane), at=at)
    return board, columns


def _class_of_service(lane_name: str) -> str:
    value = lane_name.strip().lower().replace(" ", "_").replace("-", "_")
    return value if value in CLASSES_OF_SERVICE else "standard"


# --- replay ----------------------------------------------------------------------------------

CREATE, UNBLOCK, MOVE, BLOCK, ARCHIVE = range(5)


def _actions(item: Item) -> list[tuple]:
    """One item's changes in the order they happened: (moment, tie-break…, what, argument)."""
    actions = [(at, CREATE if n == 0 else MOVE, n, 0, stage) for n, (at, stage) in
               enumerate(item.entries)]
    for n, (start, stop, reason) in enumerate(item.blocks):
        actions.append((start, BLOCK, n, 0, reason))
        if stop is not None:  # an instant block still comes after its own start
            actions.append((stop, UNBLOCK if stop > start else BLOCK, n, 1, None))
    if item.archived_at is not None:
        actions.append((item.archived_at, ARCHIVE, 0, 0, None))
    actions.sort(key=lambda action: action[:4])
    return actions


def _replay(board: Board, actor: User, items: list[Item], columns: list[BoardColumn]) -> None:
    """Every item's changes through the services, interleaved in time order across items, so
    event sequence numbers follow time as they would have."""
    timeline = []
    for order, item in enumerate(items):
        for step, action in enumerate(_actions(item)):
            timeline.append((action[0], order, step, action))
    timeline.sort(key=lambda entry: entry[:3])
    lanes = {lane.name.lower(): lane for lane in board_lanes(board)}
    cards: dict[int, Card] = {}
    with _limits_passable(board):
        for at, order, _step, (_at, kind, _n, closing, argument) in timeline:
            item = items[order]
            try:
                if kind == CREATE:
                    cards[order] = create_card(
                        board, actor, title=item.title, column=columns[argument],
                        lane=lanes.get((item.lane or "").lower()),
                        override_reason=HISTORIC_OVERRIDE, at=at, type=item.type,
                        tags=item.tags,
                        description=f"Imported from a history file (ID {item.source_id}).",
                    )
                elif kind == MOVE:
                    move_card(cards[order], actor, column=columns[argument],
                              override_reason=HISTORIC_OVERRIDE, at=at)
                elif kind == BLOCK and not closing:
                    block_card(cards[order], actor, argument, at=at)
                elif kind in (BLOCK, UNBLOCK):
                    unblock_card(cards[order], actor, at=at)
                else:
                    archive_card(cards[order], actor, at=at)
            except DomainError as error:
                raise ImportRejected([(item.line, error.message)]) from None


@contextmanager
def _limits_passable(board: Board):
    """History happened whatever the limits say now: for the import, hard limits accept the
    import's reason, so each limit the history passes is recorded as a wip.overridden event.
    The policies are back as they were before the transaction commits."""
    changed = [
        item
        for item in (*active_columns(board), *board_lanes(board))
        if item.wip_policy == "hard" and item.wip_limit is not None
    ]
    for item in changed:
        item.wip_policy = "hard-with-override"
    try:
        yield
    finally:
        for item in changed:
            item.wip_policy = "hard"


# --- export ----------------------------------------------------------------------------------


def export_history(board: Board) -> str:
    """The board's history as an ActionableAgile CSV: every card (archived ones too) with the
    first moment it entered each live column, for done columns the last (the finish the metrics
    use), and Type, Lane, Tags, Blocked intervals, Archived and the exact Moves, so importing it
    into a new board gives the same metrics."""
    zone = ZoneInfo(board.timezone or "UTC")
    columns = active_columns(board)
    live = {column.id for column in columns}
    lanes = {lane.id: lane.name for lane in board_lanes(board)}
    cards = db.session.scalars(
        select(Card).where(Card.board_id == board.id).order_by(Card.number)
    ).all()
    entries: dict[int, list[tuple[datetime, int]]] = {card.id: [] for card in cards}
    blocks: dict[int, list[list]] = {card.id: [] for card in cards}
    events = db.session.execute(
        select(Event.card_id, Event.type, Event.at, Event.from_column_id, Event.to_column_id,
               Event.data)
        .where(
            Event.board_id == board.id,
            Event.type.in_(("card.created", "card.moved", "card.blocked", "card.unblocked")),
        )
        .order_by(Event.seq)
    )
    for card_id, kind, at, from_column, to_column, data in events:
        if kind in ("card.created", "card.moved") and to_column != from_column:
            path = entries[card_id]
            # Columns deleted since are left out: the file's stages are the live columns.
            if to_column in live and (not path or path[-1][1] != to_column):
                path.append((at, to_column))
        elif kind == "card.blocked":
            blocks[card_id].append([at, None, (data or {}).get("reason") or ""])
        elif kind == "card.unblocked" and blocks[card_id] and blocks[card_id][-1][1] is None:
            blocks[card_id][-1][1] = at

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_safe(name) for name in
                     ["ID", "Name", *(c.name for c in columns), *EXPORT_ATTRIBUTES]])
    for card in cards:
        path = entries[card.id]
        cells = []
        for column in columns:
            times = [at for at, column_id in path if column_id == column.id]
            moment = (times[-1] if column.kind == "done" else times[0]) if times else None
            cells.append(shown(moment, zone) if moment else "")
        blocked = " | ".join(
            f"{shown(start, zone)}/{shown(stop, zone) if stop else ''} {reason}".rstrip()
            for start, stop, reason in blocks[card.id]
        )
        moves = " | ".join(f"{shown(at, zone)} {names}" for at, names in (
            (at, next(c.name for c in columns if c.id == column_id)) for at, column_id in path
        ))
        writer.writerow([spreadsheet_safe(cell) for cell in [
            f"{board.key}-{card.number}",
            card.title,
            *cells,
            card.type or "",
            lanes.get(card.lane_id, ""),
            "|".join(card.tags or []),
            blocked,
            shown(card.archived_at, zone) if card.archived_at else "",
            moves,
        ]])
    return out.getvalue()
