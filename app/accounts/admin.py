"""Site administration: people (create, change, deactivate, reactivate, make admin, end their
sessions), teams and their members, and every API token. Only site admins; every change is
written to the audit log in the same transaction."""

from sqlalchemy import func, select, update

from app.accounts.audit import audit
from app.accounts.models import NO_PASSWORD, ApiToken, Team, TeamMember, User
from app.accounts.services import ADDRESS, create_user, user_by_username
from app.clock import utcnow
from app.database import by_id
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.validation import clean_text


def require_admin(actor: User | None) -> User:
    if actor is None or not actor.is_authenticated or not actor.is_admin:
        raise Forbidden("Only site admins can do that.")
    return actor


def people(*, search: str = "", state: str = "all") -> list[User]:
    query = select(User).order_by(User.deactivated_at.is_not(None), User.display_name)
    if search := search.strip().lower():
        like = f"%{search}%"
        query = query.where(func.lower(User.username).like(like)
                            | func.lower(User.display_name).like(like)
                            | func.lower(User.email).like(like))
    if state == "active":
        query = query.where(User.deactivated_at.is_(None))
    elif state == "deactivated":
        query = query.where(User.deactivated_at.is_not(None))
    elif state == "admins":
        query = query.where(User.is_admin.is_(True))
    return list(db.session.scalars(query))


def checked_email(email: str | None) -> str | None:
    """An address that looks like one (None for none); whoever holds it."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > 254 or not ADDRESS.match(email):
        raise Invalid(f"{email[:60]!r} is not an email address like ann@example.com.")
    return email


def clean_email(email: str | None, *, owner: User | None = None) -> str | None:
    """An address, checked and free (or `owner`'s already; None for none)."""
    email = checked_email(email)
    if email is None:
        return None
    taken = db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    if taken is not None and (owner is None or taken != owner.id):
        raise Invalid(f"{email} belongs to someone else here.")
    return email


def add_person(actor: User, username: str, *, display_name: str = "", email: str = "",
               password: str = "", is_admin: bool = False) -> User:
    """A new person. Without a password they cannot log in with one until they set it (the
    page sends them a link to do so)."""
    require_admin(actor)
    email = clean_email(email)
    user = create_user(username, password or "x" * 64, display_name=display_name or None,
                       is_admin=is_admin)
    if not password:
        user.password_hash = NO_PASSWORD
    user.email = email
    user.email_verified_at = utcnow() if email else None  # an admin's word for it
    audit(actor, "person.created", user.username, admin=is_admin, email=email)
    return user


def change_person(actor: User, user: User, *, display_name: str, email: str) -> User:
    require_admin(actor)
    display_name = clean_text(display_name, "Display name", 80)
    email = clean_email(email, owner=user)
    changed = {}
    if display_name != user.display_name:
        changed["display_name"] = display_name
        user.display_name = display_name
    if email != user.email:
        changed["email"] = email
        user.email = email
        user.email_verified_at = utcnow() if email else None
    if changed:
        audit(actor, "person.changed", user.username, **changed)
    return user


def _other_active_admins(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.is_admin.is_(True), User.deactivated_at.is_(None), User.id != user.id))


def deactivate(actor: User, user: User) -> User:
    """They cannot log in from now; their sessions, sockets and API tokens stop at once (the
    caller cuts the sockets after the commit). Their cards, comments and history stay."""
    require_admin(actor)
    if user.id == actor.id:
        raise Invalid("You cannot deactivate yourself; ask another site admin.")
    if user.deactivated_at is not None:
        raise Invalid(f"{user.username} is already deactivated.")
    if user.is_admin and not _other_active_admins(user):
        raise Invalid("The last active site admin cannot be deactivated.")
    user.deactivated_at = utcnow()
    user.session_version += 1
    audit(actor, "person.deactivated", user.username)
    return user


def reactivate(actor: User, user: User) -> User:
    require_admin(actor)
    if user.deactivated_at is None:
        raise Invalid(f"{user.username} is active.")
    user.deactivated_at = None
    audit(actor, "person.reactivated", user.username)
    return user


def set_admin(actor: User, user: User, admin: bool) -> User:
    require_admin(actor)
    if user.is_admin == admin:
        return user
    if not admin and not _other_active_admins(user):
        raise Invalid("Swarmboard needs at least one active site admin; make someone else one "
                      "first.")
    user.is_admin = admin
    audit(actor, "person.admin" if admin else "person.not_admin", user.username)
    return user


def end_sessions(actor: User, user: User) -> User:
    """Log them out everywhere (their own doing, or an admin's)."""
    if actor.id != user.id:
        require_admin(actor)
    user.session_version += 1
    audit(actor, "person.sessions_ended", user.username)
    return user


# --- teams --------------------------------------------------------------------------------


def teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


def team_by_id(team_id) -> Team:
    team = by_id(db.session, Team, team_id)
    if team is None:
        raise NotFound("There is no such team.")
    return team


def _free_team_name(name: str, team: Team | None = None) -> str:
    name = clean_text(name, "Team name", 80)
    taken = db.session.scalar(select(Team.id).where(func.lower(Team.name) == name.lower()))
    if taken is not None and (team is None or taken != team.id):
        raise Invalid(f"There is already a team named {name!r}.")
    return name


def add_team(actor: User, name: str) -> Team:
    require_admin(actor)
    team = Team(name=_free_team_name(name))
    db.session.add(team)
    db.session.flush()
    audit(actor, "team.created", team.name)
    return team


def rename_team(actor: User, team: Team, name: str) -> Team:
    require_admin(actor)
    name = _free_team_name(name, team)
    if name != team.name:
        audit(actor, "team.renamed", name, before=team.name)
        team.name = name
    return team


def delete_team(actor: User, team: Team) -> None:
    """Boards of the team keep their members (a team only ever added people to them)."""
    require_admin(actor)
    boards = db.metadata.tables["boards"]  # the boards layer sits above accounts
    db.session.execute(update(boards).where(boards.c.team_id == team.id).values(team_id=None))
    audit(actor, "team.deleted", team.name, members=len(team.members))
    db.session.delete(team)


def add_team_member(actor: User, team: Team, username: str) -> User:
    require_admin(actor)
    user = user_by_username(username.strip())
    if any(m.user_id == user.id for m in team.members):
        raise Invalid(f"{user.username} is already in {team.name}.")
    team.members.append(TeamMember(user=user))
    audit(actor, "team.member_added", user.username, team=team.name)
    return user


def remove_team_member(actor: User, team: Team, username: str) -> None:
    require_admin(actor)
    membership = next((m for m in team.members if m.user.username == username), None)
    if membership is None:
        raise NotFound(f"{username} is not in {team.name}.")
    team.members.remove(membership)
    audit(actor, "team.member_removed", username, team=team.name)


# --- API tokens ---------------------------------------------------------------------------


def live_tokens() -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).join(User).where(ApiToken.revoked_at.is_(None))
        .order_by(User.username, ApiToken.created_at.desc())))


def revoke_any_token(actor: User, token_id) -> ApiToken:
    require_admin(actor)
    token = by_id(db.session, ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        raise NotFound("There is no such token, or it is already revoked.")
    token.revoked_at = utcnow()
    audit(actor, "token.revoked", token.user.username, token=token.prefix, name=token.name)
    return token
