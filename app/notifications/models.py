from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.boards.models import Board, BoardColumn
from app.cards.models import Card
from app.clock import utcnow
from app.extensions import db

KINDS = {
    "invitation": "Swarm invitations",
    "mention": "Mentions of me",
    "andon": "Andon pulls on my boards",
    "budget": "Error budgets of my boards running low or out",
    "change": "Changes to cards I own or watch",
    "reminder": "Reminders: due tomorrow, past the SLE, invitations waiting",
}


class Notification(db.Model):
    """Something one person should know: said in a sentence, with where to go.

    `key` makes a reminder once-only: a second with the same key for the same person is not
    written (due:OPS-12:2026-12-07, sle:OPS-12, invitation:41)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        UniqueConstraint("user_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(12))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("swarm_invitations.id"))
    event_seq: Mapped[int | None]  # the board event it tells of, if any
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(String(400))
    url: Mapped[str] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]  # sent alone or in a digest (app/notifications/email.py)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    board: Mapped[Board | None] = relationship()
    card: Mapped[Card | None] = relationship()


EMAIL_CHOICES = {"immediately": "Immediately", "digest": "In a daily digest", "never": "Never"}
DEFAULT_EMAIL = {"invitation": "immediately", "mention": "immediately", "andon": "immediately",
                 "budget": "immediately", "change": "digest", "reminder": "immediately"}


class MailSettings(db.Model):
    """How a person wants their notifications by email (app/notifications/email.py). Without
    a row: the defaults, no quiet hours, the digest at 08:00 UTC."""

    __tablename__ = "mail_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    choices: Mapped[dict] = mapped_column(JSON, default=dict)  # kind → EMAIL_CHOICES key
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    quiet_from: Mapped[str | None] = mapped_column(String(5))  # "22:00", local
    quiet_until: Mapped[str | None] = mapped_column(String(5))  # "07:00", local
    digest_hour: Mapped[int] = mapped_column(default=8)  # local hour the digest goes out
    last_digest_at: Mapped[datetime | None]

    def choice(self, kind: str) -> str:
        return (self.choices or {}).get(kind) or DEFAULT_EMAIL.get(kind, "never")


class Watch(db.Model):
    """Someone watching a card, a column, or a whole board (neither card nor column)."""

    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("user_id", "board_id", "column_id", "card_id"),
                      Index("ix_watches_board", "board_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    column_id: Mapped[int | None] = mapped_column(ForeignKey("board_columns.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    column: Mapped[BoardColumn | None] = relationship()
