from datetime import date, datetime, time

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.boards.models import Board
from app.cards.models import Card
from app.clock import utcnow
from app.extensions import db

PHASES = ("write", "group", "vote", "act", "closed")
KINDS = {"well": "Went well", "improve": "To improve", "ideas": "Ideas"}


class RetroCadence(db.Model):
    """A board's retrospective rhythm: every `every_weeks` weeks, on `weekday` (0 is Monday)
    at `starts_at`, on the board's clock."""

    __tablename__ = "retro_cadences"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), unique=True)
    every_weeks: Mapped[int]
    weekday: Mapped[int]
    starts_at: Mapped[time]
    set_at: Mapped[datetime] = mapped_column(default=utcnow)

    board: Mapped[Board] = relationship()


class Retrospective(db.Model):
    """A retrospective of a board: the period it looks back on (the board's days, both ends
    included), its phase, who moves the phases, and how many votes each person has."""

    __tablename__ = "retrospectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    phase: Mapped[str] = mapped_column(String(8), default="write")
    period_from: Mapped[date]
    period_to: Mapped[date]
    votes_each: Mapped[int] = mapped_column(default=3)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    board: Mapped[Board] = relationship()
    facilitator: Mapped[User] = relationship(foreign_keys=[facilitator_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    notes: Mapped[list["RetroNote"]] = relationship(
        back_populates="retro", cascade="all, delete-orphan", order_by="RetroNote.id")
    groups: Mapped[list["RetroGroup"]] = relationship(
        back_populates="retro", cascade="all, delete-orphan", order_by="RetroGroup.id")
    votes: Mapped[list["RetroVote"]] = relationship(
        back_populates="retro", cascade="all, delete-orphan", order_by="RetroVote.id")
    actions: Mapped[list["RetroAction"]] = relationship(
        back_populates="retro", cascade="all, delete-orphan", order_by="RetroAction.id")


class RetroGroup(db.Model):
    """Notes put together because they say the same thing, under a name."""

    __tablename__ = "retro_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    retro_id: Mapped[int] = mapped_column(ForeignKey("retrospectives.id"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    retro: Mapped[Retrospective] = relationship(back_populates="groups")
    notes: Mapped[list["RetroNote"]] = relationship(back_populates="group",
                                                    order_by="RetroNote.id")


class RetroNote(db.Model):
    """One person's note in a column (went well, to improve, ideas)."""

    __tablename__ = "retro_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    retro_id: Mapped[int] = mapped_column(ForeignKey("retrospectives.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(String(500))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("retro_groups.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    retro: Mapped[Retrospective] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()
    group: Mapped[RetroGroup | None] = relationship(back_populates="notes")


class RetroVote(db.Model):
    """One vote of one person, on a group or on a note outside any group; a person may put
    several on the same one (several rows)."""

    __tablename__ = "retro_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    retro_id: Mapped[int] = mapped_column(ForeignKey("retrospectives.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note_id: Mapped[int | None] = mapped_column(ForeignKey("retro_notes.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("retro_groups.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    retro: Mapped[Retrospective] = relationship(back_populates="votes")


class RetroAction(db.Model):
    """An action the retrospective decided: an improvement card on the board."""

    __tablename__ = "retro_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    retro_id: Mapped[int] = mapped_column(ForeignKey("retrospectives.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    retro: Mapped[Retrospective] = relationship(back_populates="actions")
    card: Mapped[Card] = relationship()
