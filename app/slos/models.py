from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.boards.models import Board, BoardColumn, Lane
from app.clock import utcnow
from app.extensions import db

# Which firing alerts spend the budget (severity as the alert intake reads it).
ALERT_POLICIES = {
    "none": "No alerts",
    "critical": "Critical alerts (severity critical or page)",
    "all": "Every firing alert",
}
# Incident cards that spend it: those at this priority or more pressing (0: none).
INCIDENT_PRIORITIES = {0: "No incident cards", 1: "P1 incidents", 2: "P1 and P2 incidents",
                       3: "P1 to P3 incidents", 5: "Every incident"}
STATES = ("ok", "low", "exhausted")


class ServiceObjective(db.Model):
    """An objective such as 99.9% over 28 days, for a board or one of its lanes.

    The time the service was down is the union of what the objective counts: cards' andon
    pulls until cleared, incident cards from creation until restored (entering
    `restored_column` or later, else done), and alerts from firing until resolved. The error
    budget is (1 - target) of the window; `threshold` is the percentage of it left below which
    starting feature work needs a reason."""

    __tablename__ = "service_objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    lane_id: Mapped[int | None] = mapped_column(ForeignKey("lanes.id"))
    name: Mapped[str] = mapped_column(String(80))
    target: Mapped[float]  # percent, e.g. 99.9
    window_days: Mapped[int] = mapped_column(default=28)
    threshold: Mapped[int] = mapped_column(default=25)  # percent of the budget left
    count_andon: Mapped[bool] = mapped_column(default=True)
    incident_priority: Mapped[int] = mapped_column(default=1)
    alerts: Mapped[str] = mapped_column(String(10), default="critical")
    restored_column_id: Mapped[int | None] = mapped_column(ForeignKey("board_columns.id"))
    # The last state the background round saw (ok, low, exhausted): crossings become events.
    state: Mapped[str] = mapped_column(String(10), default="ok")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    board: Mapped[Board] = relationship()
    lane: Mapped[Lane | None] = relationship()
    restored_column: Mapped[BoardColumn | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def scope(self) -> str:
        return f"lane {self.lane.name}" if self.lane is not None else "the whole board"
