from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.boards.models import Board
from app.clock import utcnow
from app.extensions import db


def taken(status: int | None) -> bool:
    """Whether a receiver's answer took the delivery: any 2xx."""
    return status is not None and 200 <= status < 300


class Webhook(db.Model):
    """A URL that receives a board's events, in order, each signed with the webhook's secret.

    `cursor` is the seq of the board's last event this webhook is done with (delivered, or not
    of a type it wants): delivery reads the log on from there, so a receiver that was down gets
    everything once it is back, and a restart loses nothing. A webhook that keeps failing waits
    longer between tries (`next_attempt_at`), and after a day of failures is paused."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(2000))
    # json: the event contract, signed; slack, mattermost, teams: a chat message (chat.py)
    format: Mapped[str] = mapped_column(String(12), default="json", server_default="json")
    event_types: Mapped[list] = mapped_column(JSON, default=list)  # empty: every event
    secret: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)  # in a row, on the event after the cursor
    failing_since: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    paused_reason: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(40))  # the deliverer at work on it
    lease_until: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    board: Mapped[Board] = relationship()
    created_by: Mapped[User] = relationship()
    deliveries: Mapped[list["WebhookDelivery"]] = relationship(
        back_populates="webhook", cascade="all, delete-orphan", passive_deletes=True,
        order_by="WebhookDelivery.id.desc()",
    )

    @property
    def status(self) -> str:
        if self.paused_at is not None:
            return "paused"
        return "failing" if self.failures else "ok"


class WebhookDelivery(db.Model):
    """One try at sending one event (or a test) to a webhook: the delivery log."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int | None]  # None for a test
    event_type: Mapped[str] = mapped_column(String(60))
    attempt: Mapped[int] = mapped_column(default=1)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[int | None]  # the receiver's HTTP status; None when there was no answer
    ms: Mapped[float | None]  # time to the answer
    error: Mapped[str | None] = mapped_column(String(500))

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")

    @property
    def ok(self) -> bool:
        return taken(self.status)
