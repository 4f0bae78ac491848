"""Metrics pages: thin routes over app.metrics.services and app.metrics.forecast."""

from datetime import timedelta

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from app.boards.access import get_board, require_role
from app.cards.models import Card
from app.errors import NotFound
from app.extensions import db
from app.metrics.charts import days_label, percent_label
from app.metrics.figures import all_charts, forecast_chart
from app.metrics.forecast import ForecastQuery, forecast
from app.metrics.services import MetricsQuery, board_metrics, board_today
from app.metrics.tables import TABLES, forecast_table, to_csv

bp = Blueprint("metrics", __name__)

# The forecast form asks one question at a time; `question` says which of its fields counts.
QUESTIONS = {"how_many": "how_many_by", "when": "when"}


@bp.app_template_filter("days")
def days_filter(value):
    return days_label(value)


@bp.app_template_filter("percent")
def percent_filter(value):
    return percent_label(value)


def board_tags(board) -> list[str]:
    """Tags used on the board's cards, for the tag filter's suggestions."""
    tags: set[str] = set()
    for card_tags in db.session.scalars(select(Card.tags).where(Card.board_id == board.id)):
        tags.update(card_tags or [])
    return sorted(tags)


def forecast_args(args) -> dict:
    """The form's fields for the chosen question only (the other question's field is dropped)."""
    wanted = dict(args.items())
    question = wanted.pop("question", None)
    if question in QUESTIONS:
        other = QUESTIONS["when" if question == "how_many" else "how_many"]
        wanted.pop(other, None)
    return wanted


def csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/boards/<key>/metrics")
@login_required
def page(key: str):
    board = get_board(key, current_user)
    role = require_role(board, current_user)
    query = MetricsQuery.from_args(board, request.args)
    report = board_metrics(board, query)
    return render_template(
        "metrics/page.html",
        board=board,
        role=role,
        report=report,
        query=query,
        args=query.as_args(),
        charts=all_charts(report),
        tags=board_tags(board),
        forecast_by=(board_today(board) + timedelta(days=30)).isoformat(),
    )


@bp.get("/boards/<key>/metrics/forecast")
@login_required
def forecast_result(key: str):
    board = get_board(key, current_user)
    query = ForecastQuery.from_args(board, forecast_args(request.args))
    result = forecast(board, query)
    return render_template(
        "metrics/_forecast_result.html",
        board=board,
        result=result,
        chart=forecast_chart(result),
        args=forecast_args(request.args),
    )


@bp.get("/boards/<key>/metrics/forecast.csv")
@login_required
def forecast_csv(key: str):
    board = get_board(key, current_user)
    result = forecast(board, ForecastQuery.from_args(board, forecast_args(request.args)))
    return csv_response(to_csv(*forecast_table(result)), f"{board.key}-forecast.csv")


@bp.get("/boards/<key>/metrics/<chart>.csv")
@login_required
def chart_csv(key: str, chart: str):
    board = get_board(key, current_user)
    if chart not in TABLES:
        raise NotFound(
            f"There is no chart {chart!r}; the CSV downloads are {', '.join(sorted(TABLES))}."
        )
    query = MetricsQuery.from_args(board, request.args)
    report = board_metrics(board, query)
    window = report["window"]
    return csv_response(
        to_csv(*TABLES[chart](report)),
        f"{board.key}-{chart}-{window['from']}-to-{window['to']}.csv",
    )
