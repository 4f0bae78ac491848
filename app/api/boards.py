"""Boards, their columns and members, new cards, and the event log. Each view calls one
service and commits only once it has succeeded."""

from flask_smorest import Blueprint

from app.api.auth import api_user, authenticate_request
from app.api.schemas import (
    BoardDetailSchema,
    BoardSchema,
    CardSchema,
    ColumnChangesSchema,
    ColumnSchema,
    EventsPageSchema,
    EventsQuerySchema,
    MemberChangeSchema,
    MemberSchema,
    NewBoardSchema,
    NewCardSchema,
    NewColumnSchema,
    refusal,
)
from app.board_view import board_view
from app.boards import services
from app.boards.access import board_role, boards_for, get_board
from app.cards.contract import events_as_dicts
from app.cards.services import create_card
from app.errors import Invalid
from app.events.services import events_since
from app.extensions import db

blp = Blueprint(
    "api_boards", __name__, url_prefix="/api/v1/boards", description="Boards and their streams."
)
blp.before_request(authenticate_request)

NOT_A_MEMBER = "No such board, or you are not a member of it."


@blp.get("")
@blp.response(200, BoardSchema(many=True))
def list_boards():
    """The boards you belong to, with your role on each."""
    return [{"board": board, "role": role} for board, role in boards_for(api_user())]


@blp.post("")
@blp.arguments(NewBoardSchema())
@blp.response(201, BoardSchema)
def create_board(values):
    """Create a board, empty or from a template; you become its owner."""
    board = services.create_board(api_user(), **values)
    db.session.commit()
    return {"board": board, "role": board_role(board, api_user())}


@blp.get("/<key>")
@blp.response(200, BoardDetailSchema)
@refusal(blp, 404, NOT_A_MEMBER)
def show_board(key: str):
    """The board as its page shows it: columns with their WIP state, lanes, cards in order."""
    user = api_user()
    board = get_board(key, user)
    view = board_view(board, me_username=user.username)
    start = services.commitment_point(board)
    cards = [
        card_view
        for column in view.columns
        for lane in view.lanes
        for card_view in view.cell(column.column.id, lane.lane.id)
    ]
    return {
        "board": board,
        "role": board_role(board, user),
        "view": view,
        "cards": cards,
        "commitment_point": start.id if start else None,
    }


@blp.post("/<key>/columns")
@blp.arguments(NewColumnSchema())
@blp.response(201, ColumnSchema)
@refusal(blp, 403, "Only the board's owners change its columns.")
@refusal(blp, 404, NOT_A_MEMBER)
def add_column(values, key: str):
    """Add a column (a step of the value stream)."""
    board = get_board(key, api_user())
    column = services.add_column(board, api_user(), **values)
    db.session.commit()
    return column


@blp.patch("/<key>/columns/<int:column_id>")
@blp.arguments(ColumnChangesSchema())
@blp.response(200, ColumnSchema)
@refusal(blp, 403, "Only the board's owners change its columns.")
@refusal(blp, 404, NOT_A_MEMBER)
def update_column(values, key: str, column_id: int):
    """Change a column's name, kind, WIP limit and policy, ordering or explicit policy."""
    board = get_board(key, api_user())
    column = services.find_column(board, column_id)
    services.update_column(board, api_user(), column, **values)
    db.session.commit()
    return column


@blp.post("/<key>/members")
@blp.arguments(MemberChangeSchema())
@blp.response(200, MemberSchema)
@refusal(blp, 403, "Only the board's owners manage its members.")
@refusal(blp, 404, NOT_A_MEMBER)
def set_member(values, key: str):
    """Add someone to the board, or change their role."""
    board = get_board(key, api_user())
    member = services.set_member(board, api_user(), values["username"], values["role"])
    db.session.commit()
    return member


@blp.post("/<key>/cards")
@blp.arguments(NewCardSchema())
@blp.response(201, CardSchema)
@refusal(blp, 403, "Viewers cannot add cards.")
@refusal(blp, 404, NOT_A_MEMBER)
@refusal(blp, 422, "An invalid field, or a WIP limit that refuses the card.")
def add_card(values, key: str):
    """Add a card; only the title is needed. It lands in the first column and the Standard
    lane unless `column` and `lane` say otherwise."""
    board = get_board(key, api_user())
    column, lane = values.pop("column", None), values.pop("lane", None)
    card = create_card(
        board,
        api_user(),
        column=services.find_column(board, column, Invalid) if column is not None else None,
        lane=services.find_lane(board, lane, Invalid) if lane is not None else None,
        **values,
    )
    db.session.commit()
    return card


@blp.get("/<key>/events")
@blp.arguments(EventsQuerySchema(), location="query")
@blp.response(200, EventsPageSchema)
@refusal(blp, 404, NOT_A_MEMBER)
def list_events(query, key: str):
    """The board's changes after sequence number `since`, oldest first, a page at a time."""
    board = get_board(key, api_user())
    events = events_since(board, query["since"])
    return {
        "board": board.key,
        "last_seq": board.last_seq,
        "more": bool(events) and events[-1].seq < board.last_seq,
        "events": events_as_dicts(board, events),
    }

