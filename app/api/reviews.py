"""Post-incident reviews for tokens, bots and reports: the same services as the pages."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.auth import api_user, authenticate_request
from app.api.schemas import documented, refusal
from app.boards.access import get_board
from app.reviews import improvements, services
from app.reviews.models import METRICS, ORIGINS, VERDICTS

blp = Blueprint("api_reviews", __name__, url_prefix="/api/v1",
                description="Post-incident reviews: drafted from the event log, with actions.")
blp.before_request(authenticate_request)


class ActionSchema(Schema):
    card = fields.String(attribute="card.key")
    title = fields.String(attribute="card.title")
    owner = fields.String(attribute="card.owner.username", allow_none=True)
    done = fields.Boolean(**documented("Finished (or archived)."))


class ReviewSchema(Schema):
    id = fields.Integer()
    card = fields.String(attribute="card.key", **documented("The incident's card."))
    title = fields.String()
    status = fields.String(**documented(enum=["draft", "published"]))
    started_at = fields.DateTime()
    cleared_at = fields.DateTime(allow_none=True)
    minutes_to_clear = fields.Float(allow_none=True)
    summary = fields.String()
    impact = fields.String()
    contributing = fields.String(**documented("Contributing factors (conditions, not people)."))
    learned = fields.String()
    actions = fields.List(fields.Nested(ActionSchema))
    published_at = fields.DateTime(allow_none=True)


class ReviewsQuerySchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=100),
                      **documented("Words to find in any text of a review."))


class ReviewsSchema(Schema):
    reviews = fields.List(fields.Nested(ReviewSchema))


def as_dict(review) -> dict:
    actions = [{"card": a.card, "done": services.action_done(a)} for a in review.actions]
    return {**{name: getattr(review, name) for name in (
        "id", "card", "title", "status", "started_at", "cleared_at", "summary", "impact",
        "contributing", "learned", "published_at")},
        "minutes_to_clear": services.minutes_to_clear(review), "actions": actions}


@blp.get("/boards/<key>/reviews")
@blp.arguments(ReviewsQuerySchema(), location="query")
@blp.response(200, ReviewsSchema)
@refusal(blp, 404, "No such board, or not yours to see.")
def list_reviews(query, key: str):
    """The board's post-incident reviews, newest incident first."""
    board = get_board(key, api_user())
    return {"reviews": [as_dict(r) for r in services.reviews_of(board, search=query["q"])]}


@blp.get("/reviews/<int:review_id>")
@blp.response(200, ReviewSchema)
@refusal(blp, 404, "No such review, or not yours to see.")
def show_review(review_id: int):
    """One review, with its actions."""
    return as_dict(services.get_review(review_id, api_user()))


class ImprovementSchema(Schema):
    card = fields.String()
    title = fields.String()
    owner = fields.String(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    review = fields.Integer(allow_none=True, **documented("The review it is an action of."))
    origin = fields.String(**documented(enum=list(ORIGINS)))
    metric = fields.String(allow_none=True, **documented(
        "What it means to move (unset until registered).", enum=list(METRICS)))
    blocked_reason = fields.String(allow_none=True)
    baseline = fields.Float(allow_none=True, **documented("Over the 30 days before."))
    after = fields.Float(allow_none=True, **documented("Over the 30 days after it was done."))
    verdict = fields.String(allow_none=True, **documented(enum=list(VERDICTS)))
    checked_at = fields.DateTime(allow_none=True)


class ImprovementsSchema(Schema):
    improvements = fields.List(fields.Nested(ImprovementSchema))


@blp.get("/boards/<key>/improvements")
@blp.response(200, ImprovementsSchema)
@refusal(blp, 404, "No such board, or not yours to see.")
def list_improvements(key: str):
    """The board's improvement register: every improvement card, its baseline and verdict."""
    return {"improvements": improvements.register_rows(get_board(key, api_user()))}
