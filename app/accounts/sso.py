"""Single sign-on (OpenID Connect): who an identity provider's verified claims name here.

A person is found by the provider's issuer and subject (a second login finds the same person);
the first time, by a confirmed email address the provider also vouches for, else made anew when
auto-provisioning is on or an invitation is being accepted. The provider's group claim sets
membership of the teams it maps to (only those: teams the map does not name are left alone).
The browser side (redirects, Authlib) is app/web/sso.py; settings are read in app/config.py.
"""

import re

from sqlalchemy import func, select

from app.accounts.audit import audit
from app.accounts.models import NO_PASSWORD, ExternalIdentity, Team, TeamMember, User
from app.clock import utcnow
from app.config import team_map
from app.errors import Forbidden, Invalid
from app.extensions import db

NOT_A_NAME = re.compile(r"[^a-z0-9._-]+")


class SsoRefused(Forbidden):
    code = "sso_refused"


def person_for_claims(issuer: str, claims: dict, settings: dict, *, invited: bool = False
                      ) -> User:
    """The active person the claims name, linked or made as the settings allow; SsoRefused
    says why not. Writes in the caller's transaction (identity, person, teams, audit)."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise Invalid("The identity provider's answer names nobody (no 'sub' claim).")
    identity = db.session.scalar(select(ExternalIdentity).where(
        ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject))
    if identity is not None:
        user = identity.user
    else:
        user = (_linked_by_username(claims, settings) or _linked_by_email(claims, settings)
                or _provisioned(claims, settings, invited))
        identity = ExternalIdentity(user=user, issuer=issuer, subject=subject)
        db.session.add(identity)
        audit(user, "sso.linked", user.username, issuer=issuer)
    if not user.is_active:
        raise SsoRefused("Your Swarmboard account is deactivated; ask a site admin.")
    identity.last_login_at = utcnow()
    if settings.get("team_map") is not None:
        sync_teams(user, claims.get(settings.get("groups_claim") or "groups"), settings)
    return user


def person_for_directory(found, settings: dict) -> User:
    """The person an LDAP login found (app/accounts/ldap.py's LdapPerson): linked by the
    directory's username to the account of that name, else as for single sign-on; the
    directory vouches for the address."""
    claims = {"sub": found.username, "preferred_username": found.username,
              "name": found.display_name, "email": found.email, "email_verified": True,
              "groups": list(found.groups)}
    rules = {"auto_provision": settings.get("LDAP_AUTO_PROVISION", True), "link_by_email": True,
             "link_by_username": True, "groups_claim": "groups",
             "team_map": team_map(settings.get("LDAP_TEAM_MAP"))}
    return person_for_claims(f"ldap:{settings['LDAP_URL']}", claims, rules)


def _verified_email(claims: dict) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and email and claims.get("email_verified") is True:
        return email.strip()
    return None


def _linked_by_username(claims: dict, settings: dict) -> User | None:
    if not settings.get("link_by_username"):
        return None
    return db.session.scalar(select(User).where(User.username == claims["preferred_username"]))


def _linked_by_email(claims: dict, settings: dict) -> User | None:
    """An existing person whose confirmed address the provider vouches for too."""
    email = _verified_email(claims)
    if not email or not settings.get("link_by_email", True):
        return None
    return db.session.scalar(select(User).where(
        func.lower(User.email) == email.lower(), User.email_verified_at.is_not(None)))


def _provisioned(claims: dict, settings: dict, invited: bool) -> User:
    if not (settings.get("auto_provision") or invited):
        raise SsoRefused("No Swarmboard account is linked to your single sign-on identity. Ask "
                         "a board owner for an invitation, or a site admin for an account.")
    email = _verified_email(claims)
    if email and db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        raise SsoRefused(f"{email} belongs to an account here whose address is not confirmed; "
                         "log in with its password and confirm the address first.")
    name = str(claims.get("name") or claims.get("preferred_username") or "").strip()[:80]
    user = User(username=_free_username(claims), display_name=name or "New person",
                password_hash=NO_PASSWORD, email=email, email_verified_at=utcnow() if email
                else None)
    db.session.add(user)
    db.session.flush()
    audit(user, "person.provisioned", user.username)
    return user


def _free_username(claims: dict) -> str:
    """A username from the provider's preferred one (or the email's local part), made unique
    with a number when taken."""
    wanted = str(claims.get("preferred_username") or (claims.get("email") or "").split("@")[0]
                 or "person")
    base = NOT_A_NAME.sub("-", wanted.lower()).strip("-._")[:36] or "person"
    if len(base) < 2:
        base = f"{base}-user"
    candidate, n = base, 1
    while db.session.scalar(select(User.id).where(User.username == candidate)):
        n += 1
        candidate = f"{base}{n}"
    return candidate


def sync_teams(user: User, groups, settings: dict) -> None:
    """Join the teams the person's groups map to; leave the mapped teams they no longer have.
    `team_map` maps group → team name; "*" maps every group to the team of the same name."""
    groups = {str(g) for g in groups} if isinstance(groups, list) else set()
    mapping: dict = settings["team_map"]
    if "*" in mapping:
        names = {t.name for t in db.session.scalars(select(Team))}
        mapping = {**{name: name for name in names}, **{g: t for g, t in mapping.items()
                                                        if g != "*"}}
    wanted = {mapping[g] for g in groups if g in mapping}
    managed = set(mapping.values())
    teams = {t.name: t for t in db.session.scalars(select(Team).where(Team.name.in_(managed)))}
    for name, team in teams.items():
        member = next((m for m in team.members if m.user_id == user.id), None)
        if name in wanted and member is None:
            team.members.append(TeamMember(user=user))
            audit(None, "team.member_added", user.username, team=name, by="single sign-on")
        elif name not in wanted and member is not None:
            team.members.remove(member)
            audit(None, "team.member_removed", user.username, team=name, by="single sign-on")
