from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.boards.models import Board, BoardColumn, Lane
from app.clock import utcnow
from app.extensions import db

CARD_TYPES = (
    "incident",
    "service_request",
    "change",
    "problem",
    "defect",
    "feature",
    "improvement",
    "experiment",
    "toil",
)
# Work that restores or protects reliability: it sorts first while an error budget is low.
RELIABILITY_TYPES = ("incident", "problem", "defect", "improvement")
LEVELS = ("high", "medium", "low")
LINK_KINDS = ("blocks", "relates", "duplicates")

# Priority follows from impact x urgency (domain.md).
PRIORITY_MATRIX = {
    ("high", "high"): 1,
    ("high", "medium"): 2,
    ("high", "low"): 3,
    ("medium", "high"): 2,
    ("medium", "medium"): 3,
    ("medium", "low"): 4,
    ("low", "high"): 3,
    ("low", "medium"): 4,
    ("low", "low"): 5,
}


class Card(db.Model):
    """A work item. `version` is the optimistic lock: every flush of a change bumps it."""

    __tablename__ = "cards"
    __table_args__ = (UniqueConstraint("board_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str | None] = mapped_column(String(20))
    impact: Mapped[str] = mapped_column(String(6), default="medium")
    urgency: Mapped[str] = mapped_column(String(6), default="medium")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_date: Mapped[date | None]
    tags: Mapped[list] = mapped_column(JSON, default=list)
    required_skills: Mapped[list] = mapped_column(JSON, default=list)
    cost_of_delay: Mapped[int | None]
    job_size: Mapped[int | None]
    column_id: Mapped[int] = mapped_column(ForeignKey("board_columns.id"), index=True)
    lane_id: Mapped[int] = mapped_column(ForeignKey("lanes.id"), index=True)
    rank: Mapped[int] = mapped_column(BigInteger)
    blocked: Mapped[bool] = mapped_column(default=False)
    blocked_reason: Mapped[str | None] = mapped_column(String(300))
    blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    column_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Cached from the event log by the move service: the first start and the last finish.
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    # The andon cord: pulled (with a reason) until cleared; the event log keeps every pull.
    andon_at: Mapped[datetime | None]
    andon_reason: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    board: Mapped[Board] = relationship()
    column: Mapped[BoardColumn] = relationship()
    lane: Mapped[Lane] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    checklist: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="card", cascade="all, delete-orphan", order_by="ChecklistItem.position"
    )
    comments: Mapped[list["Comment"]] = relationship(
        back_populates="card", cascade="all, delete-orphan", order_by="Comment.created_at"
    )

    @property
    def key(self) -> str:
        return f"{self.board.key}-{self.number}"

    @property
    def priority(self) -> int:
        return PRIORITY_MATRIX[(self.impact, self.urgency)]

    def __repr__(self) -> str:
        return f"<Card {self.board_id}-{self.number} {self.title!r}>"


class ChecklistItem(db.Model):
    __tablename__ = "checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    done: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int]

    card: Mapped[Card] = relationship(back_populates="checklist")


class CardLink(db.Model):
    """`source` blocks / relates to / duplicates `target`; the inverse reads from the other end."""

    __tablename__ = "card_links"
    __table_args__ = (UniqueConstraint("source_id", "target_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[Card] = relationship(foreign_keys=[source_id])
    target: Mapped[Card] = relationship(foreign_keys=[target_id])


class Comment(db.Model):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    card: Mapped[Card] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()
