"""Work item age: how long a started card has been in progress (domain.md). Cards are ordered
by it; the metrics build on it (app.metrics.flow)."""

from datetime import datetime

DAY = 86_400.0


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / DAY


def card_age_days(card, now: datetime) -> float | None:
    """Work item age of a started, unfinished card; None otherwise."""
    if card.started_at is None or card.finished_at is not None:
        return None
    return days_between(card.started_at, now)
