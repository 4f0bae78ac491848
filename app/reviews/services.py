"""Blameless post-incident reviews, drafted from the event log.

An incident is a card whose andon cord was pulled, or a P1 card's swarm. Its review is drafted
from what the log holds: the timeline (pulled, invited, accepted, decisions pinned, blocks,
moves, alerts, cleared) is read from the events whenever the review is shown, never copied; the
impact (time to clear, the card's cycle time against the board's SLE) is computed; the swarm's
outcome and what it learned fill the first draft. People then write the contributing factors
(conditions, not culprits: there is no field for one), what was learned, and actions, each an
improvement card on the board with an owner. Every step is an event on the board; edits are
checked against the version the editor saw. Open actions come up in the next stand-up walk.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from app.accounts.models import User
from app.boards.access import board_role, lock_board, require_role
from app.boards.models import Board
from app.cards.models import Card
from app.cards.services import create_card
from app.clock import utcnow
from app.database import by_id
from app.errors import Invalid, NotFound, StaleVersion
from app.events.models import Event
from app.events.services import record_event
from app.extensions import db
from app.metrics.flow import service_level_expectation
from app.reviews.models import Review, ReviewAction
from app.swarms.models import Swarm, SwarmMessage
from app.validation import clean_text

TEXT_MAX = 20_000
TITLE_MAX = 200
MARGIN = timedelta(minutes=1)  # events just before the start and after the clearing belong
TIMELINE_TYPES = (
    "alert.fired", "alert.resolved", "card.andon_pulled", "card.andon_cleared", "card.blocked",
    "card.unblocked", "card.moved", "card.updated", "wip.overridden", "swarm.started",
    "swarm.invited", "swarm.invitation_accepted", "swarm.invitation_declined", "swarm.joined",
    "swarm.decision", "swarm.task_added", "swarm.task_done", "swarm.resolved", "swarm.cancelled",
    "swarm.reopened", "card.commented",
)
FIELDS = ("title", "summary", "impact", "contributing", "learned")


class StaleReview(StaleVersion):
    """Someone saved the review since the editor opened it."""

    def __init__(self, message: str, review: Review):
        super().__init__(message, None)
        self.review = review


@dataclass(frozen=True)
class Impact:
    started_at: datetime
    cleared_at: datetime | None
    time_to_clear: timedelta | None
    cycle_days: float | None  # started to finished, when the card is done
    sle_days: float | None

    @property
    def over_sle(self) -> bool:
        return None not in (self.cycle_days, self.sle_days) and self.cycle_days > self.sle_days


def _andon_events(card: Card) -> list[Event]:
    return list(db.session.scalars(select(Event).where(
        Event.card_id == card.id,
        Event.type.in_(("card.andon_pulled", "card.andon_cleared"))).order_by(Event.seq)))


def _incident_of(card: Card, swarm: Swarm | None) -> tuple[Swarm | None, datetime,
                                                            datetime | None]:
    """The swarm, start and clearing of the card's latest incident (or of `swarm`'s)."""
    andon = _andon_events(card)
    pulls = [e for e in andon if e.type == "card.andon_pulled"]
    if swarm is None:
        swarm = db.session.scalars(select(Swarm).where(Swarm.card_id == card.id)
                                   .order_by(Swarm.started_at.desc())).first()
    # The andon is the incident, unless the swarm asked about is a P1 card's own (non-andon)
    # swarm: then that swarm is.
    if pulls and (swarm is None or swarm.type == "andon" or card.priority != 1):
        start = pulls[-1].at if swarm is None else min(pulls[-1].at, swarm.started_at)
        cleared = next((e.at for e in andon if e.type == "card.andon_cleared" and e.at >= start),
                       None)
        return swarm, start, cleared
    if swarm is not None and card.priority == 1:
        return swarm, swarm.started_at, swarm.ended_at
    raise Invalid(f"{card.key} had no incident to review: reviews are drafted for a card whose "
                  "andon cord was pulled, or for a P1 card's swarm.")


def draft_review(card: Card, actor: User, *, swarm: Swarm | None = None,
                 at: datetime | None = None) -> Review:
    """The review of the card's incident: drafted from the log, or the one already drafted."""
    require_role(card.board, actor, "member")
    if swarm is not None and swarm.card_id != card.id:
        raise NotFound(f"That swarm is not on {card.key}.")
    board = lock_board(card.board)
    swarm, started, cleared = _incident_of(card, swarm)
    existing = db.session.scalar(select(Review).where(
        Review.card_id == card.id,
        Review.swarm_id == swarm.id if swarm is not None else Review.swarm_id.is_(None)))
    if existing is not None:
        return existing
    at = at or utcnow()
    review = Review(
        board_id=board.id, card=card, swarm=swarm, created_by_id=actor.id, created_at=at,
        updated_at=at, started_at=started, cleared_at=cleared, status="draft",
        title=f"{card.key}: {card.title}"[:TITLE_MAX],
        summary=(swarm.help_needed if swarm is not None else card.andon_reason or "") or "",
        impact="", contributing="",
        learned=(swarm.learned or swarm.outcome) if swarm is not None else "")
    db.session.add(review)
    db.session.flush()
    record_event(board, "review.drafted", actor=actor, card=card, at=at, review=review.id,
                 title=review.title)
    return review


def get_review(review_id, user: User | None, needed: str = "viewer") -> Review:
    review = by_id(db.session, Review, review_id)
    if review is None:
        raise NotFound("There is no such review.")
    require_role(review.board, user, needed)
    return review


def minutes_to_clear(review: Review) -> float | None:
    if review.cleared_at is None:
        return None
    return round((review.cleared_at - review.started_at).total_seconds() / 60, 1)


def action_done(action: ReviewAction) -> bool:
    """An action is done once its card is finished (or archived: dropped on purpose)."""
    return action.card.finished_at is not None or action.card.archived_at is not None


def can_edit(review: Review, user: User) -> bool:
    return board_role(review.board, user) in ("member", "owner")


def impact_of(review: Review, now: datetime | None = None) -> Impact:
    card = review.card
    cycle = None
    if card.finished_at is not None and card.started_at is not None:
        cycle = (card.finished_at - card.started_at).total_seconds() / 86400
    return Impact(
        started_at=review.started_at, cleared_at=review.cleared_at,
        time_to_clear=(review.cleared_at - review.started_at) if review.cleared_at else None,
        cycle_days=cycle, sle_days=service_level_expectation(review.board_id, now))


@dataclass(frozen=True)
class Moment:
    event: Event
    decision: str | None = None  # a pinned decision's words


def timeline(review: Review, now: datetime | None = None) -> list[Moment]:
    """What happened, from the log: the card's events from the start to the clearing (or the
    swarm's end, if later: its resolution belongs to the story)."""
    ends = [at for at in (review.cleared_at,
                          review.swarm.ended_at if review.swarm is not None else None) if at]
    until = (max(ends) if ends else now or utcnow()) + MARGIN
    events = list(db.session.scalars(select(Event).where(
        Event.card_id == review.card_id, Event.type.in_(TIMELINE_TYPES),
        Event.at >= review.started_at - MARGIN, Event.at <= until).order_by(Event.seq)))
    wanted = [e.data.get("message") for e in events if e.type == "swarm.decision"]
    words = {m.id: m.body for m in db.session.scalars(
        select(SwarmMessage).where(SwarmMessage.id.in_([w for w in wanted if w])))}
    return [Moment(e, words.get(e.data.get("message")) if e.type == "swarm.decision" else None)
            for e in events]


def update_review(review: Review, actor: User, *, version, at: datetime | None = None,
                  **values) -> Review:
    """Save what the editor wrote, if nobody saved since they opened it (StaleReview)."""
    require_role(review.board, actor, "member")
    lock_board(review.board)
    db.session.refresh(review)
    if str(version) != str(review.version):
        raise StaleReview(
            "Someone saved this review since you opened it; their text is shown now. Add "
            "yours again.", review)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise Invalid(f"A review has no field {sorted(unknown)[0]!r}.")
    changed = []
    for name, value in values.items():
        limit = TITLE_MAX if name == "title" else TEXT_MAX
        cleaned = clean_text(value, name.capitalize(), limit, required=name == "title")
        if cleaned != getattr(review, name):
            setattr(review, name, cleaned)
            changed.append(name)
    if changed:
        review.version += 1
        review.updated_at = at or utcnow()
        record_event(review.board, "review.updated", actor=actor, card=review.card,
                     at=review.updated_at, review=review.id, changed=changed)
    return review


def add_action(review: Review, actor: User, *, title: str, owner: str | None = None,
               at: datetime | None = None) -> Card:
    """An action the review decided: an improvement card on the board (its first column),
    owned by whoever will see it through, linked to the review."""
    require_role(review.board, actor, "member")
    title = clean_text(title, "Action", TITLE_MAX)
    card = create_card(review.board, actor, title=title, type="improvement",
                       owner=owner or None, at=at,
                       description=f"An action from the review of {review.card.key} "
                                   f"({review.title}).")
    db.session.add(ReviewAction(review=review, card=card, created_at=card.created_at))
    record_event(review.board, "review.action_added", actor=actor, card=review.card,
                 at=card.created_at, review=review.id, action=card.key, title=title)
    return card


def publish_review(review: Review, actor: User, *, at: datetime | None = None) -> Review:
    require_role(review.board, actor, "member")
    lock_board(review.board)
    if review.status == "published":
        raise Invalid("This review is already published.")
    if not review.contributing.strip() or not review.learned.strip():
        raise Invalid("Write the contributing factors and what was learned before publishing.")
    review.status, review.published_at = "published", at or utcnow()
    review.version += 1
    record_event(review.board, "review.published", actor=actor, card=review.card,
                 at=review.published_at, review=review.id, actions=len(review.actions))
    return review


def reviews_of(board: Board, *, search: str = "") -> list[Review]:
    """The board's reviews, newest incident first; `search` looks in every text of them."""
    query = select(Review).where(Review.board_id == board.id)
    if words := search.strip().lower()[:100]:
        like = f"%{words}%"
        query = query.where(or_(*(func.lower(getattr(Review, name)).like(like)
                                  for name in FIELDS)))
    return list(db.session.scalars(query.order_by(Review.started_at.desc())))


def review_of_card(card: Card) -> Review | None:
    return db.session.scalars(select(Review).where(Review.card_id == card.id)
                              .order_by(Review.id.desc())).first()


def can_draft(card: Card) -> bool:
    """Whether the card had an incident a review could be drafted for."""
    try:
        _incident_of(card, None)
    except Invalid:
        return False
    return True


def open_actions(board: Board) -> list[tuple[Card, Review]]:
    """Review actions not done yet (neither finished nor archived), oldest first."""
    rows = db.session.execute(
        select(Card, Review).join(ReviewAction, ReviewAction.card_id == Card.id)
        .join(Review, Review.id == ReviewAction.review_id)
        .where(Review.board_id == board.id, Card.finished_at.is_(None),
               Card.archived_at.is_(None))
        .order_by(ReviewAction.id)).all()
    return [(card, review) for card, review in rows]
