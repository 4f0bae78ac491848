from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.clock import utcnow
from app.extensions import db


class Event(db.Model):
    """One change to a board, append-only. `seq` runs 1, 2, 3… per board without gaps.

    Lane ids are plain integers (lanes may be deleted once empty); names go into `data`.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("board_id", "seq"),
        Index("ix_events_card_at", "card_id", "at"),
        # Error budgets read a board's andon and alert events of all time (app/slos/budget.py).
        Index("ix_events_board_type", "board_id", "type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    from_column_id: Mapped[int | None] = mapped_column(ForeignKey("board_columns.id"))
    to_column_id: Mapped[int | None] = mapped_column(ForeignKey("board_columns.id"))
    from_lane_id: Mapped[int | None]
    to_lane_id: Mapped[int | None]
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
