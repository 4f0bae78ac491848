"""What a board push carries: the events, and the HTML that brings any open view up to date.

The HTML is role-neutral out-of-band fragments rendered from the page's own templates, and only
what the events changed: each touched card taken out of its old place and put in its new one
(before the card that now follows it, or at the end of its cell), the headers whose counts
changed, and whole cells only where placing one card is not enough (a done cell shows only its
recent finishes; several touched cards landing in one cell). Applying it twice changes nothing.
Changes to the board's shape ask views to re-fetch the whole board instead.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for
from markupsafe import Markup, escape
from sqlalchemy import inspect, select

from app.board_view import card_view, cells_view, column_views, lane_views, next_in_cell
from app.boards.models import Board, BoardColumn, Lane
from app.boards.services import active_columns, board_lanes, commitment_point
from app.cards.contract import events_as_dicts
from app.cards.models import Card
from app.cards.wip import column_counts, lane_counts
from app.clock import utcnow
from app.database import kept_for_transaction
from app.events.models import Event
from app.extensions import db
from app.metrics.flow import service_level_expectation
from app.slos.strip import budget_strip

SHAPE_EVENTS = ("board.", "column.", "lane.")
# Events after which a card stands somewhere else, or anew: column and lane counts change.
COUNTED_EVENTS = ("card.created", "card.moved", "card.archived", "card.restored")
# Events that bring a card onto the board: before them no view shows it.
ARRIVALS = ("card.created", "card.restored")
# Events after which the andon banner may read differently (an archived card leaves it).
ANDON_EVENTS = ("card.andon_pulled", "card.andon_cleared", "card.archived", "card.restored")
# Events about a card that leave it looking as it did (a swarm room's talk): nothing to redraw.
# Events after which an error budget may read differently, and those after which the cells may
# order differently (a budget went low or recovered: reliability work first, or not).
BUDGET_EVENTS = ("card.andon_pulled", "card.andon_cleared", "alert.fired", "alert.resolved")
REORDERING = ("slo.defined", "slo.updated", "slo.removed", "slo.budget_low",
              "slo.budget_exhausted", "slo.budget_recovered")
UNSEEN = ("swarm.message", "swarm.decision", "swarm.decision_unpinned", "swarm.task_added",
          "swarm.task_done", "swarm.task_reopened", "swarm.invited", "swarm.invitation_declined")

Cell = tuple[int, int]


@dataclass
class BoardChange:
    """What a run of events changed, as far as a view of the board can tell."""

    reshaped: bool = False
    cards: dict[int, Cell | None] = field(default_factory=dict)  # card → its cell before
    columns: set[int] = field(default_factory=set)  # whose counts may have changed
    lanes: set[int] = field(default_factory=set)
    standup: bool = False  # the stand-up strip changed (started, focus, joined, ended…)
    andon: bool = False  # the andon banner changed (a cord pulled or cleared)
    budget: bool = False  # an error budget may read differently
    reorder: bool = False  # every cell may order differently

    def __bool__(self) -> bool:
        return (self.reshaped or self.standup or self.andon or self.budget or self.reorder
                or bool(self.cards or self.columns or self.lanes))


def board_change(events: list[Event]) -> BoardChange:
    """The cards the events touched (with the cell each stood in before the first of them, None
    if no view showed it then) and the columns and lanes whose counts may have changed."""
    change = BoardChange()
    pending: set[int] = set()  # first seen in an event that does not say where it stood
    for event in events:
        if event.type.startswith(SHAPE_EVENTS) and event.type != "board.created":
            change.reshaped = True
        if event.type.startswith("standup."):
            change.standup = True  # the card it names is only in focus: the card is unchanged
            continue
        if event.type.startswith("slo.") or event.type in BUDGET_EVENTS:
            change.budget = True
            change.reorder = change.reorder or event.type in REORDERING
        if not event.card_id or event.type in UNSEEN:
            continue
        card_id = event.card_id
        if event.type in ANDON_EVENTS[:2] or (
            event.type in ANDON_EVENTS and db.session.get(Card, card_id).andon_at is not None
        ):
            change.andon = True
        if card_id not in change.cards and card_id not in pending:
            if event.type in ARRIVALS:
                change.cards[card_id] = None
            elif event.type == "card.moved":
                change.cards[card_id] = (event.from_column_id, event.from_lane_id)
            else:
                pending.add(card_id)
        elif card_id in pending and event.type == "card.moved":
            pending.discard(card_id)
            change.cards[card_id] = (event.from_column_id, event.from_lane_id)
        if event.type in COUNTED_EVENTS:
            card = db.session.get(Card, card_id)
            change.budget = change.budget or card.type == "incident"
            columns = {event.from_column_id, event.to_column_id, card.column_id} - {None}
            lanes = {event.from_lane_id, event.to_lane_id, card.lane_id} - {None}
            if event.type == "card.moved" and len(columns) == 1 and len(lanes) == 1:
                continue  # a new place in the same cell: every count stays
            change.columns |= columns
            change.lanes |= lanes  # a lane counts in-progress cards: a new column may change it
    archived_here = {e.card_id for e in events if e.type == "card.archived"}
    for card_id in pending:  # never moved in these events: it stood where it stands
        card = db.session.get(Card, card_id)
        shown = card.archived_at is None or card_id in archived_here
        change.cards[card_id] = (card.column_id, card.lane_id) if shown else None
    return change


def board_update_html(board: Board, change: BoardChange, now: datetime | None = None) -> str:
    """Out-of-band fragments bringing a view from before the change to now."""
    now = now or utcnow()
    columns = active_columns(board) if change.cards or change.columns or change.reorder else []
    column_of = {c.id: c for c in columns}
    is_done = {c.id for c in columns if c.kind == "done"}
    cards = [db.session.get(Card, card_id) for card_id in change.cards]

    removals, whole, placed = [], set(), {}
    for card in cards:
        before = change.cards[card.id]
        if before is not None and before[0] in is_done:
            whole.add(before)  # a done cell may show an earlier finish in its place
        elif before is not None:
            removals.append(card)
        if card.archived_at is None and card.column_id in column_of:
            placed.setdefault((card.column_id, card.lane_id), []).append(card)
    for cell, landed in placed.items():
        if cell[0] in is_done or len(landed) > 1:
            whole.add(cell)
    if change.reorder:
        whole |= {(c.id, lane.id) for c in columns for lane in board_lanes(board)}
    sle = service_level_expectation(board.id, now) if placed or whole else None

    parts = [_removal(board, card) for card in removals]
    parts += _head_fragments(board, columns, change)
    if whole:
        parts += _cell_fragments(board, whole, columns, now, sle)
    cards_root = url_for("cards.show", card_key="_")[:-1]
    for cell, landed in placed.items():
        if cell in whole:
            continue
        [card] = landed
        following = next_in_cell(card, column_of[cell[0]], now, sle)
        place = (f"beforebegin:#card-{board.key}-{following}" if following is not None
                 else f"beforeend:#cell-{cell[0]}-{cell[1]}")
        parts.append(fragment(
            "boards/_card.html", item=card_view(card, now, sle), board_key=board.key,
            cards_root=cards_root, place=place,
        ))
    if change.standup:
        from app.standups.view import standup_bar

        parts.append(standup_bar(board, oob=True))
    if change.andon:
        from app.swarms.banner import andon_banner

        parts.append(andon_banner(board, oob=True))
    if change.budget:
        parts.append(budget_strip(board, oob=True))
    return "".join(parts)


def fragment(template: str, **context) -> str:
    """A push's fragment. It is the same for every viewer, so it is rendered without the
    per-request template context a page gets (the signed-in user and the rest), which took a
    third of the time of rendering a column's header."""
    return current_app.jinja_env.get_template(template).render(context)


def _removal(board: Board, card: Card) -> Markup:
    # Not board markup, an instruction: htmx deletes the card wherever the view shows it.
    return Markup('<div hx-swap-oob="delete:#card-{}"></div>').format(
        escape(f"{board.key}-{card.number}")
    )


def _head_fragments(board: Board, columns: list[BoardColumn], change: BoardChange) -> list[str]:
    """Headers whose numbers changed: column counters, and lane counters where a lane shows one
    (a lane without a WIP limit shows no number)."""
    parts = []
    if change.columns:
        heads = column_views(columns, column_counts(board.id), commitment_point(board, columns),
                             only=change.columns)
        parts += [fragment("boards/_column_head.html", cv=cv, oob=True) for cv in heads]
    lanes = [db.session.get(Lane, lane_id) for lane_id in sorted(change.lanes)]
    limited = [lane for lane in lanes if lane is not None and lane.wip_limit is not None]
    if limited:
        views = lane_views(sorted(limited, key=lambda ln: ln.position), lane_counts(board.id))
        parts += [fragment("boards/_lane_head.html", lv=lv, oob=True) for lv in views]
    return parts


def _cell_fragments(board, cells: set[Cell], columns: list[BoardColumn], now, sle) -> list[str]:
    view = cells_view(board, cells, columns, now, sle)
    # _cell.html reads only the column of its `cv`: no counts needed here.
    heads = {cv.column.id: cv for cv in column_views(columns, {}, None, only={c for c, _ in cells})}
    parts = []
    for column_id, lane_id in sorted(cells):
        lane = db.session.get(Lane, lane_id)
        if column_id in heads and lane is not None:
            parts.append(fragment("boards/_cell.html", cv=heads[column_id], lane=lane,
                                         view=view, oob=True))
    return parts


def _load_cards(card_ids: set[int]) -> None:
    """Touched cards not in the session yet (a catch-up), in one query rather than one each,
    and kept for the transaction: the session holds on only to objects someone refers to."""
    mapper, loaded = inspect(Card), db.session.identity_map
    missing = [i for i in card_ids if mapper.identity_key_from_primary_key((i,)) not in loaded]
    if missing:
        kept = kept_for_transaction(db.session, "pushed_cards")
        kept.update((card.id, card) for card in
                    db.session.scalars(select(Card).where(Card.id.in_(missing))))


def board_messages(board: Board, events: list[Event], render: bool = True) -> list[dict]:
    """One `board_event` message per event, in order; the last carries the HTML (or asks for
    a refresh), since it brings a view from before the first to after the last.

    With `render` off (nobody was watching) it says `catch_up` instead: a view that joined
    meanwhile fetches the HTML rather than missing it."""
    if not events:
        return []
    _load_cards({event.card_id for event in events if event.card_id})
    messages = events_as_dicts(board, events)
    change = board_change(events)
    if change.reshaped:
        messages[-1]["refresh"] = True
    elif change and render:
        messages[-1]["html"] = board_update_html(board, change)
    elif change:
        messages[-1]["catch_up"] = True
    return messages
