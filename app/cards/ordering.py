"""How a column orders its cards: its sort policy, with aging escalation under 'priority'."""

from datetime import date, datetime, timedelta

from app.cards.age import card_age_days
from app.cards.models import RELIABILITY_TYPES, Card

DUE_SOON = timedelta(days=2)
FAR_FUTURE = date(9999, 12, 31)
# Rules saying which lanes of a board put reliability work first (a set of lane ids, None for
# every lane), added by the features that own them (the error budget's, app/slos), so the
# cards need not know them.
reliability_rules: list = []


def reliability_lanes(board_id: int) -> set[int] | None:
    """The lanes whose cells now put reliability work first; None: every lane."""
    lanes: set[int] = set()
    for rule in reliability_rules:
        found = rule(board_id)
        if found is None:
            return None
        lanes |= found
    return lanes


def first_in(lanes: set[int] | None, lane_id: int) -> bool:
    return lanes is None or lane_id in lanes


def mixed(cards) -> bool:
    """Whether reliability work and other work share these cards (else putting one first
    changes nothing)."""
    kinds = {card.type in RELIABILITY_TYPES for card in cards}
    return len(kinds) == 2


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


def order_cards(policy: str, cards: list[Card], now: datetime, sle_days: float | None,
                reliability_first: bool = False):
    """The cell's display order by its policy; with `reliability_first`, reliability work
    comes before the rest, each part in the policy's order."""
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
    if reliability_first:
        by_policy = key
        key = lambda c: (c.type not in RELIABILITY_TYPES, by_policy(c))  # noqa: E731
    return sorted(cards, key=key)
