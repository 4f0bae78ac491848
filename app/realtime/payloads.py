"""What a board push carries: the events, and the HTML that brings any open view up to date.

The HTML is role-neutral out-of-band fragments (every column and lane header, and each cell
the events touched), rendered from the same templates as the page, so applying it twice
changes nothing. Changes to the board's shape ask views to re-fetch the whole board instead.
"""

from flask import render_template

from app.boards.models import Board
from app.boards.view import board_view
from app.cards.models import Card
from app.events.models import Event
from app.events.services import events_as_dicts
from app.extensions import db

SHAPE_EVENTS = ("board.", "column.", "lane.")


def touched_cells(events: list[Event]) -> tuple[set[tuple[int, int]], bool]:
    """The (column, lane) cells the events changed, and whether the board's shape changed."""
    cells: set[tuple[int, int]] = set()
    reshaped = False
    for event in events:
        if event.type.startswith(SHAPE_EVENTS) and event.type != "board.created":
            reshaped = True
        if event.from_column_id and event.from_lane_id:
            cells.add((event.from_column_id, event.from_lane_id))
        if event.to_column_id and event.to_lane_id:
            cells.add((event.to_column_id, event.to_lane_id))
        if event.card_id:
            card = db.session.get(Card, event.card_id)
            cells.add((card.column_id, card.lane_id))
    return cells, reshaped


def board_update_html(board: Board, cells: set[tuple[int, int]]) -> str:
    """Out-of-band fragments for every header and the given cells, as they are now."""
    view = board_view(board, only_cells=cells)
    parts = [render_template("boards/_column_head.html", cv=cv, oob=True) for cv in view.columns]
    parts += [render_template("boards/_lane_head.html", lv=lv, oob=True) for lv in view.lanes]
    columns = {cv.column.id: cv for cv in view.columns}
    lanes = {lv.lane.id: lv.lane for lv in view.lanes}
    for column_id, lane_id in sorted(cells):
        if column_id in columns and lane_id in lanes:
            parts.append(
                render_template(
                    "boards/_cell.html", cv=columns[column_id], lane=lanes[lane_id], view=view,
                    oob=True,
                )
            )
    return "".join(parts)


def board_messages(board: Board, events: list[Event], render: bool = True) -> list[dict]:
    """One `board_event` message per event, in order; the last carries the HTML (or asks for
    a refresh), since it brings a view from before the first to after the last.

    With `render` off (nobody was watching) it says `catch_up` instead: a view that joined
    meanwhile fetches the HTML rather than missing it."""
    messages = events_as_dicts(board, events)
    if not messages:
        return messages
    cells, reshaped = touched_cells(events)
    if reshaped:
        messages[-1]["refresh"] = True
    elif cells and render:
        messages[-1]["html"] = board_update_html(board, cells)
    elif cells:
        messages[-1]["catch_up"] = True
    return messages
