"""Accounts: users, passwords, teams and personal API tokens."""

import re
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import ApiToken, Team, TeamMember, User, UserSkill
from app.clock import utcnow
from app.database import by_id
from app.errors import Invalid, NotFound
from app.extensions import db
from app.tokens import digest
from app.validation import clean_text, whole_number

ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "sb_"
LAST_USED_STEP = timedelta(minutes=1)


def create_user(
    username: str,
    password: str,
    *,
    display_name: str | None = None,
    is_admin: bool = False,
) -> User:
    username = clean_text(username, "Username", 40).lower()
    if not USERNAME.match(username):
        raise Invalid(
            "Username must be 2 to 40 lower-case letters, digits, dots, dashes or underscores."
        )
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"Password must be at least {MIN_PASSWORD} characters.")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Invalid(f"The username {username} is taken.")
    user = User(
        username=username,
        display_name=clean_text(display_name or username, "Display name", 80),
        password_hash=generate_password_hash(password),
        is_admin=is_admin,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active person with this username (or email address) and password; None otherwise,
    whatever the reason (the login page gives one answer for all of them)."""
    name = (username or "").strip().lower()
    column = User.email if "@" in name else User.username
    user = db.session.scalar(select(User).where(func.lower(column) == name))
    if user is None or not user.is_active or not user.can_use_password:
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    return user


def user_by_username(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == (username or "").lower()))
    if user is None:
        raise NotFound(f"There is no user {username!r}.")
    return user


def set_skill(user: User, skill: str, level) -> UserSkill:
    skill = clean_text(skill, "Skill", 60).lower()
    level = whole_number(level, "Skill level", minimum=1, maximum=5)
    existing = next((s for s in user.skills if s.skill == skill), None)
    if existing:
        existing.level = level
        return existing
    entry = UserSkill(skill=skill, level=level)
    user.skills.append(entry)
    return entry


def create_team(name: str, members: list[User]) -> Team:
    name = clean_text(name, "Team name", 80)
    if db.session.scalar(select(Team.id).where(Team.name == name)):
        raise Invalid(f"There is already a team named {name!r}.")
    team = Team(name=name)
    team.members = [TeamMember(user=user) for user in members]
    db.session.add(team)
    db.session.flush()
    return team


def create_token(user: User, name: str = "API token") -> str:
    """Create a personal API token and return it; only its digest is kept."""
    name = clean_text(name, "Token name", 80)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(user_id=user.id, name=name, token_hash=digest(token), prefix=token[:10])
    )
    db.session.flush()
    return token


# Built once, run with parameters: every API call asks (app/database.py says why).
_LIVE_TOKEN = (
    select(ApiToken)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))
    .options(joinedload(ApiToken.user))
)


def user_for_token(token: str, *, read_only: bool = False) -> User | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    record = db.session.scalar(_LIVE_TOKEN, {"digest": digest(token)})
    if record is None or not record.user.is_active:
        return None
    now = utcnow()
    # A read must not write (it would take SQLite's write lock), and a busy client need not
    # write on every call: "last used" is kept to the minute.
    stale = record.last_used_at is None or now - record.last_used_at > LAST_USED_STEP
    if not read_only and stale:
        record.last_used_at = now
    return record.user


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_token(user: User, token_id) -> None:
    record = by_id(db.session, ApiToken, token_id)
    if record is None or record.user_id != user.id or record.revoked_at is not None:
        raise NotFound("There is no such token.")
    record.revoked_at = utcnow()
