"""How a column orders its cards: its sort policy, with aging escalation under 'priority'."""

from datetime import date, datetime, timedelta

from app.cards.age import card_age_days
from app.cards.models import Card

DUE_SOON = timedelta(days=2)
FAR_FUTURE = date(9999, 12, 31)


def is_escalated(card: Card, now: datetime, sle_days: float | None) -> bool:
    """Aging escalation: age past the SLE, or a due date within two days (or past)."""
    age = card_age_days(card, now)
    if sle_days is not None and age is not None and age > sle_days:
        return True
    return card.due_date is not None and card.due_date <= (now + DUE_SOON).date()


def wsjf(card: Card) -> float:
    """Weighted shortest job first: cost of delay over job size; unknown sorts last."""
    if card.cost_of_delay is None:
        return -1.0
    return card.cost_of_delay / (card.job_size or 1)


def order_cards(policy: str, cards: list[Card], now: datetime, sle_days: float | None):
    if policy == "priority":
        key = lambda c: (c.priority, not is_escalated(c, now, sle_days), c.rank)  # noqa: E731
    elif policy == "fifo":
        key = lambda c: (c.created_at, c.number)  # noqa: E731
    elif policy == "due_date":
        key = lambda c: (c.due_date or FAR_FUTURE, c.priority, c.rank)  # noqa: E731
    elif policy == "cost_of_delay":
        key = lambda c: (-wsjf(c), c.priority, c.rank)  # noqa: E731
    else:
        key = lambda c: (c.rank, c.id)  # noqa: E731
    return sorted(cards, key=key)
