from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Team, User
from app.clock import utcnow
from app.extensions import db

COLUMN_KINDS = ("backlog", "queue", "active", "done")
WIP_POLICIES = ("soft", "hard", "hard-with-override")
SORT_POLICIES = ("manual", "priority", "fifo", "due_date", "cost_of_delay")
VALUE_ACTIVITIES = (
    "plan",
    "improve",
    "engage",
    "design_transition",
    "obtain_build",
    "deliver_support",
)
CLASSES_OF_SERVICE = ("expedite", "fixed_date", "standard", "intangible")
ROLES = ("viewer", "member", "owner")


class Board(db.Model):
    """A value stream. `last_seq` numbers its events; `next_card_number` its card keys."""

    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    last_seq: Mapped[int] = mapped_column(default=0)
    next_card_number: Mapped[int] = mapped_column(default=1)
    # Local times ("09:00") at which the dispatch swarm meets over incoming work.
    dispatch_times: Mapped[list | None] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team | None] = relationship()
    columns: Mapped[list["BoardColumn"]] = relationship(
        order_by="BoardColumn.position",
        primaryjoin="and_(Board.id == BoardColumn.board_id, BoardColumn.removed_at.is_(None))",
        viewonly=True,
    )
    lanes: Mapped[list["Lane"]] = relationship(back_populates="board", order_by="Lane.position")
    members: Mapped[list["BoardMember"]] = relationship(
        back_populates="board", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Board {self.key}>"


class BoardMember(db.Model):
    __tablename__ = "board_members"

    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))

    board: Mapped[Board] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class BoardColumn(db.Model):
    """A step of the stream. Removed columns are kept (`removed_at`): past events refer to them."""

    __tablename__ = "board_columns"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))
    position: Mapped[int]
    wip_limit: Mapped[int | None]
    wip_policy: Mapped[str] = mapped_column(String(20), default="soft")
    policy_text: Mapped[str] = mapped_column(Text, default="")
    done_checklist: Mapped[list] = mapped_column(JSON, default=list)
    value_activity: Mapped[str | None] = mapped_column(String(30))
    sort_policy: Mapped[str] = mapped_column(String(20), default="manual")
    removed_at: Mapped[datetime | None]

    board: Mapped[Board] = relationship()

    @property
    def counts_as_started(self) -> bool:
        return self.kind != "backlog"

    def __repr__(self) -> str:
        return f"<Column {self.name} ({self.kind})>"


class Lane(db.Model):
    """A swimlane: a class of service, optionally with its own WIP limit."""

    __tablename__ = "lanes"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    class_of_service: Mapped[str] = mapped_column(String(20), default="standard")
    position: Mapped[int]
    wip_limit: Mapped[int | None]
    wip_policy: Mapped[str] = mapped_column(String(20), default="hard")

    board: Mapped[Board] = relationship(back_populates="lanes")

    def __repr__(self) -> str:
        return f"<Lane {self.name}>"


class BoardInvite(db.Model):
    """An invitation to a board with the role it grants: sent to one email address (single
    use), or a link to share that expires and admits up to `max_uses` people. Only the
    token's SHA-256 is stored."""

    __tablename__ = "board_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    max_uses: Mapped[int] = mapped_column(default=1)
    uses: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None]

    board: Mapped[Board] = relationship()
    created_by: Mapped[User | None] = relationship()
