"""Error budgets for tokens, bots and reports: the same services as the page."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select

from app.api.auth import api_user, authenticate_request
from app.api.schemas import documented, refusal
from app.boards.access import get_board
from app.cards.models import Card
from app.extensions import db
from app.slos.services import budgets_of

blp = Blueprint("api_slos", __name__, url_prefix="/api/v1",
                description="Service level objectives and what is left of their error budgets.")
blp.before_request(authenticate_request)


class OutageSchema(Schema):
    source = fields.String(**documented("What counted it.", enum=["andon", "incident", "alert"]))
    card = fields.String()
    started_at = fields.DateTime(**documented("Within the window: an earlier start is cut."))
    ended_at = fields.DateTime(allow_none=True, **documented("None while it goes on."))
    minutes = fields.Float(**documented("Minutes within the window."))


class ObjectiveSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    lane = fields.String(allow_none=True, **documented("None: the whole board."))
    target = fields.Float(**documented("Percent of the window the service is to be up."))
    window_days = fields.Integer()
    threshold = fields.Integer(**documented("Percent of the budget left under which reliability "
                                            "work goes first."))
    state = fields.String(**documented(enum=["ok", "low", "exhausted"]))
    budget_minutes = fields.Float()
    spent_minutes = fields.Float()
    left_percent = fields.Float(**documented("Negative once overspent."))
    availability = fields.Float(**documented("Percent of the window the service was up."))
    burn_rate = fields.Float(allow_none=True, **documented(
        "The last 24 hours' spending over the pace the objective allows (1: on pace)."))
    outages = fields.List(fields.Nested(OutageSchema))


class ObjectivesSchema(Schema):
    objectives = fields.List(fields.Nested(ObjectiveSchema))


def as_dict(budget) -> dict:
    objective = budget.objective
    keys = {c.id: c.key for c in db.session.scalars(
        select(Card).where(Card.id.in_({o.card_id for o in budget.outages})))}
    outages = [{"source": o.source, "card": keys[o.card_id], "started_at": o.start,
                "ended_at": o.end,
                "minutes": round(((o.end or budget.now) - o.start).total_seconds() / 60, 2)}
               for o in budget.outages]
    return {"id": objective.id, "name": objective.name,
            "lane": objective.lane.name if objective.lane else None,
            **{name: getattr(objective, name) for name in ("target", "window_days", "threshold")},
            **{name: getattr(budget, name) for name in (
                "state", "budget_minutes", "spent_minutes", "left_percent", "availability",
                "burn_rate")},
            "outages": outages}


@blp.get("/boards/<key>/slos")
@blp.response(200, ObjectivesSchema)
@refusal(blp, 404, "No such board, or not yours to see.")
def list_objectives(key: str):
    """The board's objectives with their budgets now, and the outages that spent them."""
    board = get_board(key, api_user())
    return {"objectives": [as_dict(b) for b in budgets_of(board)]}
