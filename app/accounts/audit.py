"""The audit log: every change made to people, teams, tokens, wall links and invitations, and
every sign-in by password or single sign-on, as an append-only row with who did it and from
which address. Site admins read it at /admin/audit."""

from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import Select, select

from app.accounts.models import AuditEntry, User
from app.extensions import db

ACTIONS = {
    "person.created": "Person created",
    "person.invited": "Person joined by invitation",
    "person.provisioned": "Person made by single sign-on",
    "person.changed": "Person changed",
    "person.deactivated": "Person deactivated",
    "person.reactivated": "Person reactivated",
    "person.admin": "Made a site admin",
    "person.not_admin": "No longer a site admin",
    "person.sessions_ended": "Sessions ended",
    "password.reset_sent": "Password reset link sent",
    "password.reset": "Password reset",
    "password.changed": "Password changed",
    "email.verify_sent": "Address confirmation sent",
    "email.verified": "Email address confirmed",
    "login.password": "Logged in with a password",
    "login.sso": "Logged in by single sign-on",
    "login.ldap": "Logged in through LDAP",
    "sso.linked": "Single sign-on identity linked",
    "team.created": "Team created",
    "team.renamed": "Team renamed",
    "team.deleted": "Team deleted",
    "team.member_added": "Added to a team",
    "team.member_removed": "Removed from a team",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "wall_link.revoked": "Wall link revoked",
    "invite.created": "Board invitation made",
    "invite.revoked": "Board invitation withdrawn",
    "invite.accepted": "Board invitation accepted",
}
PAGE = 100


def audit(actor: User | None, action: str, subject: str, **detail) -> AuditEntry:
    """Write one entry in the caller's transaction (it stands or falls with the change). The
    address is the request's, when there is one (none from the command line)."""
    assert action in ACTIONS, action
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None, action=action, subject=subject[:160],
        detail=detail, address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def audit_query(*, action: str = "", person: str = "", since: datetime | None = None,
                until: datetime | None = None) -> Select:
    """Entries newest first, filtered by kind of action (an exact action or its group, such
    as "person" or "login"), by a person (who did it, or whom it was done to), by time."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action.startswith(action.rstrip(".") + ".")
                            if "." not in action else AuditEntry.action == action)
    if person:
        actor_ids = select(User.id).where(User.username == person.strip().lower())
        query = query.where((AuditEntry.actor_id.in_(actor_ids))
                            | (AuditEntry.subject == person.strip().lower()))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query


def audit_page(*, before: int | None = None, **filters) -> list[AuditEntry]:
    query = audit_query(**filters)
    if before:
        query = query.where(AuditEntry.id < before)
    return list(db.session.scalars(query.limit(PAGE)))
