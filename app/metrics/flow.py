"""Flow measures the board itself needs (the metrics page builds on these)."""

from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import bindparam, select

from app.cards.age import days_between
from app.cards.models import Card
from app.clock import utcnow
from app.database import rows
from app.extensions import db

SLE_PERCENTILE = 85
SLE_WINDOW_DAYS = 90
SLE_MIN_CARDS = 5


def percentile_nearest_rank(values, p: float):
    """The smallest value such that at least p% of the values are <= it (domain.md)."""
    ordered = sorted(values)
    if not ordered:
        return None
    # ceil(p * n / 100) in exact arithmetic: 0.85 * 20 must be rank 17, not 17.000000000000004.
    rank = max(1, -(-Fraction(p) * len(ordered) // 100))
    return ordered[int(rank) - 1]


# Built once, run with parameters: every push and page asks (app/database.py says why).
_FINISHES = select(Card.started_at, Card.finished_at).where(
    Card.board_id == bindparam("board"),
    Card.finished_at.is_not(None),
    Card.started_at.is_not(None),
    Card.finished_at >= bindparam("since"),
)


def service_level_expectation(board_id: int, now: datetime | None = None) -> float | None:
    """The 85th percentile of cycle time (days) of cards finished in the last 90 days;
    None until at least five cards have finished in that window."""
    now = now or utcnow()
    since = now - timedelta(days=SLE_WINDOW_DAYS)
    finishes = rows(db.session, _FINISHES, {"board": board_id, "since": since}).all()
    cycle_times = [days_between(start, end) for start, end in finishes]
    if len(cycle_times) < SLE_MIN_CARDS:
        return None
    return percentile_nearest_rank(cycle_times, SLE_PERCENTILE)
