"""The board's flow figures for a retrospective's period, beside those of the period of the same
length just before it: computed by app/metrics exactly as the metrics page computes them for
the same days (a retrospective only picks the figures a team talks about)."""

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.boards.models import Board
from app.clock import utcnow
from app.events.models import Event
from app.extensions import db
from app.metrics.flow import service_level_expectation
from app.metrics.services import MetricsQuery, board_metrics, day_start


def figures(board: Board, start: date, end: date, now: datetime | None = None) -> dict:
    """The figures of the board's days from `start` to `end`, both included."""
    now = now or utcnow()
    report = board_metrics(board, MetricsQuery(start, end), now=now)
    pulls = db.session.scalar(select(func.count(Event.id)).where(
        Event.board_id == board.id, Event.type == "card.andon_pulled",
        Event.at >= day_start(board, start), Event.at < day_start(board, end + timedelta(days=1))))
    return {
        "from": start.isoformat(), "to": end.isoformat(), "days": report["window"]["days"],
        "throughput": report["throughput"]["total"],
        "cycle_p85": report["cycle_time"]["p85"],
        "cycle_p50": report["cycle_time"]["p50"],
        "flow_efficiency": report["flow_efficiency"],
        "avg_wip": report["littles_law"]["avg_wip"],
        "blocked_days": round(sum(c["days"] or 0 for c in report["blocked"]), 2),
        "blocked": [{"reason": c["reason"], "count": c["count"], "days": c["days"]}
                    for c in report["blocked"]],
        "andon_pulls": pulls or 0,
        "swarms": report["swarms"]["total"],
    }


def period_figures(board: Board, start: date, end: date, now: datetime | None = None) -> dict:
    """The period's figures, those of the same number of days before it, and the board's SLE
    (the 85th percentile cycle time of the last 90 days) to hold the p85 against."""
    now = now or utcnow()
    length = (end - start).days + 1
    before_end = start - timedelta(days=1)
    return {
        "period": figures(board, start, end, now),
        "before": figures(board, before_end - timedelta(days=length - 1), before_end, now),
        "sle_days": service_level_expectation(board.id, now),
    }
