from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.boards.models import Board, BoardColumn
from app.cards.models import Card
from app.clock import utcnow
from app.extensions import db

ANDON_POLICIES = {
    "never": "Never",
    "critical": "For critical alerts (severity critical or page)",
    "always": "For every firing alert",
}


class AlertIntake(db.Model):
    """What a board does with the alerts it receives; a board without a row has the defaults."""

    __tablename__ = "alert_intakes"

    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), primary_key=True)
    andon: Mapped[str] = mapped_column(String(10), default="critical")
    # Where a resolved alert moves its card; None: it only says so on the card.
    resolved_column_id: Mapped[int | None] = mapped_column(ForeignKey("board_columns.id"))

    resolved_column: Mapped[BoardColumn | None] = relationship()


class Alert(db.Model):
    """One alert as its sender identifies it (the fingerprint), and the card it opened.

    A repeat of a firing alert only touches `last_received_at`; a resolved alert that fires
    again reopens on the same card while that card is live, on a new card once it is done."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("board_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # alertmanager, grafana
    name: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(10))  # firing, resolved
    labels: Mapped[dict] = mapped_column(JSON, default=dict)
    times_fired: Mapped[int] = mapped_column(default=1)
    pulled_andon: Mapped[bool] = mapped_column(default=False)
    fired_at: Mapped[datetime]  # the latest firing began (the sender's startsAt)
    resolved_at: Mapped[datetime | None]
    last_received_at: Mapped[datetime] = mapped_column(default=utcnow)

    board: Mapped[Board] = relationship()
    card: Mapped[Card] = relationship()
