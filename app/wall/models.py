from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.boards.models import Board
from app.clock import utcnow
from app.extensions import db


class WallLink(db.Model):
    """A named, revocable link (`/wall/<token>`) showing a board read-only without a login.

    Only the token's SHA-256 is stored. Options: which lanes and columns to show (None = all),
    light or dark theme, and other boards to rotate through every `rotate_seconds`.
    """

    __tablename__ = "wall_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    theme: Mapped[str] = mapped_column(String(10), default="dark")
    lane_ids: Mapped[list | None] = mapped_column(JSON)
    column_ids: Mapped[list | None] = mapped_column(JSON)
    rotate_board_ids: Mapped[list | None] = mapped_column(JSON)
    rotate_seconds: Mapped[int | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    board: Mapped[Board] = relationship()
    created_by: Mapped[User] = relationship()
