from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db

NO_PASSWORD = "!"  # the password hash of someone who signs in only through single sign-on


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A deactivated person cannot log in; their sessions, sockets and tokens stop at once.
    deactivated_at: Mapped[datetime | None]
    # Part of every session's id: raising it ends every session made before (a reset password,
    # a deactivation, "log out everywhere").
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    email_verified_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # 0: no picture (the avatar shows initials); raised with every new picture, so its
    # address changes and browsers may cache each one for good.
    avatar_version: Mapped[int] = mapped_column(default=0, server_default="0")

    skills: Mapped[list["UserSkill"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserSkill.skill"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in an inactive user
        return self.deactivated_at is None

    @property
    def can_use_password(self) -> bool:
        """False for people made by single sign-on who never set a password."""
        return self.password_hash != NO_PASSWORD

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def initials(self) -> str:
        parts = self.display_name.split()
        letters = "".join(p[0] for p in parts[:2]) if parts else self.username[:2]
        return letters.upper()

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserSkill(db.Model):
    """A skill someone has, with a level from 1 (learning) to 5 (expert)."""

    __tablename__ = "user_skills"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(60), primary_key=True)
    level: Mapped[int] = mapped_column(default=3)

    user: Mapped[User] = relationship(back_populates="skills")


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["TeamMember"]] = relationship(
        back_populates="team", cascade="all, delete-orphan"
    )


class TeamMember(db.Model):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class AccountToken(db.Model):
    """A link sent by email to reset a password or confirm an address: single use, expiring;
    only its SHA-256 is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(10))  # reset, verify
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))  # the address it was sent to
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ExternalIdentity(db.Model):
    """Who someone is at an identity provider (OpenID Connect issuer and subject, or an LDAP
    directory): a second login there finds the same person."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class AuditEntry(db.Model):
    """One thing done to accounts, teams, tokens or wall links (append-only): who, what, to
    whom, from where."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(160))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()


class UserAvatar(db.Model):
    """A person's picture (PNG, JPEG or WebP, small), shown instead of their initials."""

    __tablename__ = "user_avatars"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    content_type: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
