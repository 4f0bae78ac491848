from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.boards.models import Board
from app.cards.models import Card
from app.clock import utcnow
from app.extensions import db


class Standup(db.Model):
    """One stand-up on a board: at most one runs at a time; the facilitator walks the board."""

    __tablename__ = "standups"
    __table_args__ = (Index("ix_standups_board_ended", "board_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    walk: Mapped[list] = mapped_column(JSON, default=list)  # card ids in walking order
    position: Mapped[int | None]  # index into `walk` of the card in focus
    focus_card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    focus_since: Mapped[datetime | None]
    summary: Mapped[dict | None] = mapped_column(JSON)  # written when it ends

    board: Mapped[Board] = relationship()
    facilitator: Mapped[User] = relationship()
    focus_card: Mapped[Card | None] = relationship()
    attendees: Mapped[list["StandupAttendee"]] = relationship(
        back_populates="standup", order_by="StandupAttendee.joined_at",
        cascade="all, delete-orphan",
    )

    @property
    def running(self) -> bool:
        return self.ended_at is None


class StandupAttendee(db.Model):
    __tablename__ = "standup_attendees"

    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    remote: Mapped[bool] = mapped_column(default=False)

    standup: Mapped[Standup] = relationship(back_populates="attendees")
    user: Mapped[User] = relationship()


class StandupItem(db.Model):
    """Time a card spent in focus (a card revisited gets another row)."""

    __tablename__ = "standup_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class StandupNote(db.Model):
    """A note or decision taken during the walk, on a card or on the meeting."""

    __tablename__ = "standup_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id"), index=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))  # note or decision
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()
    card: Mapped[Card | None] = relationship()


class AsyncUpdate(db.Model):
    """Someone's yesterday / today / blockers for a day's stand-up, posted before it."""

    __tablename__ = "async_updates"
    __table_args__ = (UniqueConstraint("board_id", "user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date]  # the board-local day of the stand-up it is for
    yesterday: Mapped[str] = mapped_column(Text, default="")
    today: Mapped[str] = mapped_column(Text, default="")
    blockers: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
