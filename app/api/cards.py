"""Cards: read, edit, move, block. Each change calls one service and commits only once it has
succeeded; a change made against an old version answers 409 with the card as stored."""

from flask import jsonify
from flask_smorest import Blueprint

from app.api.auth import api_user, authenticate_request
from app.api.schemas import (
    BlockSchema,
    CardChangesSchema,
    CardDetailSchema,
    CardSchema,
    MoveSchema,
    StaleCardSchema,
    VersionSchema,
    refusal,
)
from app.boards.services import find_column, find_lane
from app.cards import services
from app.cards.moves import move_card
from app.errors import Invalid, StaleVersion
from app.events.services import card_history, event_as_dict
from app.extensions import db
from app.web import api_error

blp = Blueprint(
    "api_cards", __name__, url_prefix="/api/v1/cards", description="Cards (work items)."
)
blp.before_request(authenticate_request)

NO_CARD = "No such card, or you are not a member of its board."
CARD = CardSchema()  # building a schema costs more than using it: one for every answer
STALE = "The card changed since you loaded it; the body holds the card as stored now."


def committed(card):
    """Commit, answering with the card as written: read before the commit, which would
    otherwise expire it and cost a second read of the card and its board."""
    body = CARD.dump(card)
    db.session.commit()
    return jsonify(body)


@blp.errorhandler(StaleVersion)
def stale_version(error: StaleVersion):
    db.session.rollback()
    card = CardSchema().dump(error.card)
    return api_error(error.code, error.message, error.status, card=card)


@blp.get("/<card_key>")
@blp.response(200, CardDetailSchema)
@refusal(blp, 404, NO_CARD)
def show_card(card_key: str):
    """The whole card: fields, checklist, comments, links and its history of events."""
    card = services.get_card(card_key, api_user())
    return {
        "card": card,
        "links": [
            {"relation": relation, "other": other, "link": link}
            for relation, other, link in services.links_of(card)
        ],
        "history": [event_as_dict(e, card.board.key, card.key) for e in card_history(card)],
    }


@blp.patch("/<card_key>")
@blp.arguments(CardChangesSchema())
@blp.response(200, CardSchema)
@refusal(blp, 403, "Viewers cannot change cards.")
@refusal(blp, 404, NO_CARD)
@blp.alt_response(409, schema=StaleCardSchema, description=STALE)
def update_card(values, card_key: str):
    """Edit a card's fields. Send the `version` you edited to avoid overwriting a colleague."""
    card = services.get_card(card_key, api_user())
    services.update_card(card, api_user(), **values)
    return committed(card)


@blp.post("/<card_key>/move")
@blp.arguments(MoveSchema())
@blp.response(200, CardSchema)
@refusal(blp, 403, "Viewers cannot move cards.")
@refusal(blp, 404, NO_CARD)
@blp.alt_response(409, schema=StaleCardSchema, description=STALE)
@refusal(
    blp,
    422,
    "A WIP limit refuses the move (error wip_limit; needs_reason true when an "
    "override_reason would let it through), or an invalid field.",
)
def move(values, card_key: str):
    """Move a card to a column, and optionally a lane and a position within the cell."""
    card = services.get_card(card_key, api_user())
    lane = values.pop("lane", None)
    move_card(
        card,
        api_user(),
        column=find_column(card.board, values.pop("column"), Invalid),
        lane=find_lane(card.board, lane, Invalid) if lane is not None else None,
        **values,
    )
    return committed(card)


@blp.post("/<card_key>/block")
@blp.arguments(BlockSchema())
@blp.response(200, CardSchema)
@refusal(blp, 403, "Viewers cannot block cards.")
@refusal(blp, 404, NO_CARD)
@blp.alt_response(409, schema=StaleCardSchema, description=STALE)
def block(values, card_key: str):
    """Flag the card blocked, with the reason (blocked time is reported per reason)."""
    card = services.get_card(card_key, api_user())
    services.block_card(card, api_user(), values["reason"], version=values.get("version"))
    return committed(card)


@blp.post("/<card_key>/unblock")
@blp.arguments(VersionSchema(), required=False)
@blp.response(200, CardSchema)
@refusal(blp, 403, "Viewers cannot unblock cards.")
@refusal(blp, 404, NO_CARD)
@blp.alt_response(409, schema=StaleCardSchema, description=STALE)
def unblock(values, card_key: str):
    """Clear the card's blocked flag."""
    card = services.get_card(card_key, api_user())
    services.unblock_card(card, api_user(), version=values.get("version"))
    return committed(card)
