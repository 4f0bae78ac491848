from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.boards.models import Board
from app.cards.models import Card
from app.clock import utcnow
from app.extensions import db
from app.swarms.models import Swarm

STATUSES = ("draft", "published")


class Review(db.Model):
    """A blameless post-incident review of one card's incident (its andon, or a P1 swarm):
    what happened (the timeline is read from the event log, never stored twice), the impact,
    contributing factors (conditions, not culprits), what was learned, and actions that are
    improvement cards on the board. `version` guards against overwriting a colleague's edit."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("card_id", "swarm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    swarm_id: Mapped[int | None] = mapped_column(ForeignKey("swarms.id"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    summary: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    contributing: Mapped[str] = mapped_column(Text, default="")
    learned: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime]  # the incident began (andon pulled, swarm started)
    cleared_at: Mapped[datetime | None]  # and was cleared (andon cleared, swarm resolved)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    board: Mapped[Board] = relationship()
    card: Mapped[Card] = relationship()
    swarm: Mapped[Swarm | None] = relationship()
    created_by: Mapped[User] = relationship()
    actions: Mapped[list["ReviewAction"]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewAction.id")


class ReviewAction(db.Model):
    """An action a review decided: an improvement card on the board, with its owner."""

    __tablename__ = "review_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[Review] = relationship(back_populates="actions")
    card: Mapped[Card] = relationship()


METRICS = {  # what an improvement means to move, and which way is better
    "cycle_p85": ("85th percentile cycle time (days)", "lower"),
    "flow_efficiency": ("flow efficiency", "higher"),
    "throughput": ("throughput (cards finished)", "higher"),
    "blocked_days": ("days blocked for a reason", "lower"),
}
ORIGINS = ("review", "retrospective", "standup", "anyone")
VERDICTS = ("confirmed", "refuted", "inconclusive")


class Improvement(db.Model):
    """An improvement card in the continual improvement register: where it came from, the
    board metric it means to move, that metric's baseline over the 30 days before it was
    registered, and, 30 days after the card is done, the same figure again and the verdict."""

    __tablename__ = "improvements"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), unique=True)
    origin: Mapped[str] = mapped_column(String(14))
    metric: Mapped[str] = mapped_column(String(20))
    blocked_reason: Mapped[str | None] = mapped_column(String(300))
    baseline_from: Mapped[datetime]
    baseline_to: Mapped[datetime]
    baseline: Mapped[float | None]
    after_from: Mapped[datetime | None]
    after_to: Mapped[datetime | None]
    after: Mapped[float | None]
    verdict: Mapped[str | None] = mapped_column(String(12))
    checked_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    board: Mapped[Board] = relationship()
    card: Mapped[Card] = relationship()
