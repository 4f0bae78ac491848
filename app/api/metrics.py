"""Flow metrics and Monte Carlo forecasts of a board, as JSON (the numbers the page shows)."""

from flask import request
from flask_smorest import Blueprint

from app.api.auth import api_user, authenticate_request
from app.api.metric_schemas import (
    ForecastQuerySchema,
    ForecastSchema,
    MetricsQuerySchema,
    MetricsSchema,
)
from app.api.schemas import refusal
from app.boards.access import get_board
from app.metrics.forecast import ForecastQuery, forecast
from app.metrics.services import MetricsQuery, board_metrics

blp = Blueprint(
    "api_metrics", __name__, url_prefix="/api/v1/boards", description="Flow metrics and forecasts."
)
blp.before_request(authenticate_request)
# The query schemas document the parameters; the services read request.args themselves so that
# an unknown parameter is refused with a sentence rather than silently dropped.

NOT_A_MEMBER = "No such board, or you are not a member of it."
BAD_QUERY = "A window, filter or trial setting that makes no sense, with a sentence saying why."


@blp.get("/<key>/metrics")
@blp.arguments(MetricsQuerySchema(), location="query")
@blp.response(200, MetricsSchema)
@refusal(blp, 404, NOT_A_MEMBER)
@refusal(blp, 422, BAD_QUERY)
def metrics(_query, key: str):
    """Every flow metric over a window (default: the last 30 days), from the event log."""
    board = get_board(key, api_user())
    return board_metrics(board, MetricsQuery.from_args(board, request.args))


@blp.get("/<key>/forecast")
@blp.arguments(ForecastQuerySchema(), location="query")
@blp.response(200, ForecastSchema)
@refusal(blp, 404, NOT_A_MEMBER)
@refusal(blp, 422, BAD_QUERY)
def forecast_view(_query, key: str):
    """Monte Carlo: `how_many_by=DATE` or `when=N`, with the 50/70/85/95% table."""
    board = get_board(key, api_user())
    return forecast(board, ForecastQuery.from_args(board, request.args))
