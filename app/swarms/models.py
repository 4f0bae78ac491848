"""Swarms: specialists gathered around one card until it is clear who continues (domain.md)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.boards.models import Board
from app.cards.models import Card
from app.clock import utcnow
from app.extensions import db

SWARM_TYPES = ("dispatch", "backlog", "drop_in", "andon")
SWARM_TYPE_LABELS = {
    "dispatch": "Dispatch",
    "backlog": "Backlog",
    "drop_in": "Drop-in",
    "andon": "Andon",
}
SWARM_STATES = ("open", "resolved", "cancelled")
INVITATION_STATES = ("pending", "accepted", "declined", "cancelled", "expired")


class Swarm(db.Model):
    """A swarm on one card. The card's owner stays its owner throughout."""

    __tablename__ = "swarms"
    __table_args__ = (Index("ix_swarms_board_status", "board_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    type: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")
    help_needed: Mapped[str] = mapped_column(Text)
    tried: Mapped[str] = mapped_column(Text, default="")
    skills: Mapped[list] = mapped_column(JSON, default=list)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_expert_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    continued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(Text, default="")
    learned: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    board: Mapped[Board] = relationship()
    card: Mapped[Card] = relationship()
    started_by: Mapped[User] = relationship(foreign_keys=[started_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])
    continued_by: Mapped[User | None] = relationship(foreign_keys=[continued_by_id])
    stints: Mapped[list["SwarmStint"]] = relationship(
        back_populates="swarm", order_by="SwarmStint.joined_at", cascade="all, delete-orphan"
    )
    invitations: Mapped[list["SwarmInvitation"]] = relationship(
        back_populates="swarm", order_by="SwarmInvitation.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def type_label(self) -> str:
        return SWARM_TYPE_LABELS.get(self.type, self.type)

    def present(self) -> list["SwarmStint"]:
        """Who is in the room now (one entry per person)."""
        return [stint for stint in self.stints if stint.left_at is None]


class SwarmStint(db.Model):
    """One person's time in a swarm: joined, and left (None while still in it)."""

    __tablename__ = "swarm_stints"

    id: Mapped[int] = mapped_column(primary_key=True)
    swarm_id: Mapped[int] = mapped_column(ForeignKey("swarms.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # owner, expert or watcher
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]

    swarm: Mapped[Swarm] = relationship(back_populates="stints")
    user: Mapped[User] = relationship()


class SwarmInvitation(db.Model):
    __tablename__ = "swarm_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    swarm_id: Mapped[int] = mapped_column(ForeignKey("swarms.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    why: Mapped[str] = mapped_column(String(300), default="")  # why this person was suggested
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    decline_reason: Mapped[str] = mapped_column(String(300), default="")

    swarm: Mapped[Swarm] = relationship(back_populates="invitations")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])


class SwarmMessage(db.Model):
    """A message in the room (Markdown); a pinned message is a decision."""

    __tablename__ = "swarm_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    swarm_id: Mapped[int] = mapped_column(ForeignKey("swarms.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pinned_at: Mapped[datetime | None]
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])


class SwarmTask(db.Model):
    __tablename__ = "swarm_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    swarm_id: Mapped[int] = mapped_column(ForeignKey("swarms.id"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignee: Mapped[User | None] = relationship()


class UserInterest(db.Model):
    """A skill someone wants to grow: they are glad to be asked to watch or help with it."""

    __tablename__ = "user_interests"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(60), primary_key=True)


class Availability(db.Model):
    """Someone's "available to help" status for drop-in work (no row: not available)."""

    __tablename__ = "availability"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(120), default="")

    user: Mapped[User] = relationship()


class AndonHook(db.Model):
    """A board's inbound andon webhook: only the token's SHA-256 is kept."""

    __tablename__ = "andon_hooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The hook acts as whoever made it (a board owner), like a personal token would.
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    board: Mapped[Board] = relationship()
    created_by: Mapped[User] = relationship()
