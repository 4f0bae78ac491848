"""The continual improvement register: every improvement card of a board, where it came from
(a review's action, a retrospective, a stand-up, anyone), and the board metric it means to move.

Registering an improvement takes a **baseline**: the metric over the 30 days before. Once the
30 days from the day after the card is done have passed, Swarmboard measures the same metric
over them and gives its verdict: **confirmed** (it moved at least 10% the better way),
**refuted** (at least 10% the worse way), or **inconclusive** (less than that, or too little
data in either window: fewer than 3 finished cards for the cycle-time and efficiency figures).
The figures come from the event log through app/metrics, as the metrics page computes them.
"""

from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.boards.access import lock_board, require_role
from app.boards.models import Board
from app.cards.models import Card
from app.clock import utcnow
from app.errors import Invalid
from app.events.models import Event
from app.events.services import record_event
from app.extensions import db
from app.metrics.services import MetricsQuery, board_metrics, local_day
from app.notifications.rounds import Every
from app.retros.services import is_action as is_retro_action
from app.reviews.models import METRICS, ORIGINS, Improvement, Review, ReviewAction
from app.validation import choice, clean_text

WINDOW = timedelta(days=30)
# Measured again over the 30 days from the day after the card is done (the card itself is not
# part of the figure that judges it).
SETTLE = WINDOW + timedelta(days=1)
MOVED = 0.10  # a change of at least 10% the better or the worse way decides
MIN_FINISHED = 3
CHECK_EVERY = 3600.0  # seconds


def _window(board: Board, start: datetime, end: datetime) -> MetricsQuery:
    """The metrics query of the whole days from `start` to `end` (the board's own days)."""
    first, last = local_day(board, start), local_day(board, end) - timedelta(days=1)
    return MetricsQuery(first, max(first, last))


def measure(board: Board, metric: str, reason: str | None, start: datetime, end: datetime,
            now: datetime | None = None) -> float | None:
    """The metric over [start, end); None where there is too little to say."""
    report = board_metrics(board, _window(board, start, end), now=now or end)
    finished = report["throughput"]["total"]
    if metric == "throughput":
        return float(finished)
    if metric == "blocked_days":
        return float(sum(c["days"] or 0 for c in report["blocked"]
                         if reason is None or c["reason"] == reason))
    if finished < MIN_FINISHED:
        return None
    if metric == "cycle_p85":
        return report["cycle_time"]["p85"]
    return report["flow_efficiency"]


def origin_of(card: Card) -> str:
    """Where an improvement card came from, as far as the board knows."""
    if db.session.scalar(select(ReviewAction.id).where(ReviewAction.card_id == card.id)):
        return "review"
    if is_retro_action(card):
        return "retrospective"
    if db.session.scalar(select(Event.id).where(Event.card_id == card.id,
                                                Event.type == "standup.impediment")):
        return "standup"  # parked at a stand-up
    return "anyone"


def register(card: Card, actor: User, *, metric: str, origin: str | None = None,
             blocked_reason: str | None = None, at: datetime | None = None) -> Improvement:
    """Put an improvement card in the register with the metric it means to move; its
    baseline is that metric over the 30 days before now."""
    require_role(card.board, actor, "member")
    board = lock_board(card.board)
    if card.type != "improvement":
        raise Invalid(f"{card.key} is not an improvement card; make its type improvement first.")
    if db.session.scalar(select(Improvement.id).where(Improvement.card_id == card.id)):
        raise Invalid(f"{card.key} is already in the register.")
    metric = choice(metric, tuple(METRICS), "Metric")
    origin = choice(origin or origin_of(card), ORIGINS, "Origin")
    reason = None
    if metric == "blocked_days":
        reason = clean_text(blocked_reason, "Blocked reason", 300, required=False) or None
    at = at or utcnow()
    improvement = Improvement(
        board_id=board.id, card=card, origin=origin, metric=metric, blocked_reason=reason,
        baseline_from=at - WINDOW, baseline_to=at, created_by_id=actor.id, created_at=at,
        baseline=measure(board, metric, reason, at - WINDOW, at, now=at))
    db.session.add(improvement)
    db.session.flush()
    record_event(board, "improvement.registered", actor=actor, card=card, at=at,
                 metric=metric, origin=origin, baseline=improvement.baseline)
    return improvement


def verdict(metric: str, before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "inconclusive"
    if before == 0:
        better = after < 0 if METRICS[metric][1] == "lower" else after > 0
        return "confirmed" if better else "inconclusive"
    change = (after - before) / abs(before)
    if METRICS[metric][1] == "lower":
        change = -change
    if change >= MOVED:
        return "confirmed"
    if change <= -MOVED:
        return "refuted"
    return "inconclusive"


def check_due(now: datetime | None = None) -> int:
    """Measure again every registered improvement done at least 30 days ago and not yet
    checked; returns how many were checked (the caller commits)."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Improvement).join(Card, Card.id == Improvement.card_id)
        .where(Improvement.checked_at.is_(None), Card.finished_at.is_not(None),
               Card.finished_at <= now - SETTLE)).all()
    for improvement in due:
        board = lock_board(improvement.board)
        start = improvement.card.finished_at + timedelta(days=1)
        improvement.after_from, improvement.after_to = start, start + WINDOW
        improvement.after = measure(board, improvement.metric, improvement.blocked_reason,
                                    start, start + WINDOW, now=now)
        improvement.verdict = verdict(improvement.metric, improvement.baseline,
                                      improvement.after)
        improvement.checked_at = now
        record_event(board, "improvement.checked", card=improvement.card, at=now,
                     metric=improvement.metric, baseline=improvement.baseline,
                     after=improvement.after, verdict=improvement.verdict)
    return len(due)


def register_of(board: Board) -> list[tuple[Card, Improvement | None, Review | None]]:
    """Every improvement card of the board (archived ones aside), newest first, with its
    register entry and the review it came from."""
    cards = db.session.scalars(select(Card).where(
        Card.board_id == board.id, Card.type == "improvement", Card.archived_at.is_(None))
        .order_by(Card.created_at.desc())).all()
    ids = [c.id for c in cards]
    entries = {i.card_id: i for i in db.session.scalars(
        select(Improvement).where(Improvement.card_id.in_(ids)))}
    reviews = dict(db.session.execute(
        select(ReviewAction.card_id, Review).join(Review, Review.id == ReviewAction.review_id)
        .where(ReviewAction.card_id.in_(ids))).all())
    return [(card, entries.get(card.id), reviews.get(card.id)) for card in cards]


def origin_unregistered(card: Card, review: Review | None) -> str:
    """The origin shown for a card not in the register yet."""
    return "review" if review else origin_of(card)


def register_rows(board) -> list[dict]:
    """The register as plain rows (the API and the CSV share them)."""
    rows = []
    for card, entry, review in register_of(board):
        rows.append({
            "card": card.key, "title": card.title,
            "owner": card.owner.username if card.owner else None, "done_at": card.finished_at,
            "review": review.id if review else None,
            "origin": entry.origin if entry else origin_unregistered(card, review),
            **{name: getattr(entry, name) if entry else None for name in (
                "metric", "blocked_reason", "baseline", "after", "verdict", "checked_at")}})
    return rows


def improvement_round(runner_name: str) -> int:
    """The background runner's share: check what is due (commits its own work)."""
    check_due()
    db.session.commit()
    return 0  # nothing to hurry back for: verdicts are about days


def init_improvements(app) -> None:
    """Check the register once an hour in the background runner (app/webhooks/delivery.py)."""
    app.extensions["sb_rounds"].append(Every(CHECK_EVERY, improvement_round))
