"""Invitations to a board: an owner invites an email address (the link works once) or makes a
link to share that admits up to N people until it expires; either grants the role chosen. The
invitee joins with the account they have, or makes one (a name and a password, or single
sign-on). Joining is an ordinary `member.added` event on the board, and an audit entry."""

import logging
import secrets
import smtplib
from datetime import timedelta

from sqlalchemy import select, update

from app.accounts.admin import checked_email
from app.accounts.audit import audit
from app.accounts.models import User
from app.boards.access import forget_roles, lock_board, require_role
from app.boards.models import ROLES, BoardInvite, BoardMember
from app.clock import utcnow
from app.database import by_id
from app.errors import Invalid, NotFound
from app.events.services import record_event
from app.extensions import db
from app.mail import link, mail_on, message_to, send
from app.tokens import digest
from app.validation import choice, whole_number

log = logging.getLogger(__name__)
MAX_DAYS = 90
MAX_USES = 1000


class InviteRefused(Invalid):
    """An invitation link that cannot be used any more, with the reason."""

    status = 410
    code = "invite_refused"


def invite(board, actor: User, *, role: str, email: str = "", days=7, uses=1
           ) -> tuple[BoardInvite, str]:
    """A new invitation and its link (shown once; only its digest is kept). An email
    invitation is single use; the caller sends it after the commit (`mail_invite`)."""
    require_role(board, actor, "owner")
    role = choice(role, ROLES, "Role")
    days = whole_number(days, "Days the invitation works", minimum=1, maximum=MAX_DAYS)
    address = (email or "").strip()
    if address:
        if not mail_on():
            raise Invalid("This server sends no email (SMTP is not set up); make a link to "
                          "share instead.")
        address = _address(address)
        uses = 1
    uses = whole_number(uses, "Number of people the link admits", minimum=1, maximum=MAX_USES)
    token = secrets.token_urlsafe(24)
    record = BoardInvite(board_id=board.id, role=role, email=address or None, max_uses=uses,
                         uses=0, token_hash=digest(token), created_by_id=actor.id,
                         expires_at=utcnow() + timedelta(days=days))
    db.session.add(record)
    db.session.flush()
    audit(actor, "invite.created", address or f"link {record.id}", board=board.key, role=role,
          uses=uses, days=days)
    return record, link(f"/join/{token}")


def _address(address: str) -> str:
    """An address to invite: any valid one, someone's here or someone new."""
    checked = checked_email(address)
    if checked is None:
        raise Invalid("Give the email address to send the invitation to.")
    return checked


def mail_invite(record: BoardInvite, url: str) -> bool:
    """Send an email invitation (after the commit that made it); False if it could not go."""
    try:
        send(message_to(record.email, f"{record.created_by.display_name} invites you to "
                        f"{record.board.name} on Swarmboard", "accounts/email/invite",
                        user=None, url=url, inviter=record.created_by, board=record.board,
                        role=record.role, expires=record.expires_at))
        return True
    except (OSError, smtplib.SMTPException) as error:
        log.warning("Invitation email to %s failed: %s", record.email, error)
        return False


def open_invites(board) -> list[BoardInvite]:
    now = utcnow()
    return list(db.session.scalars(select(BoardInvite).where(
        BoardInvite.board_id == board.id, BoardInvite.revoked_at.is_(None),
        BoardInvite.expires_at > now, BoardInvite.uses < BoardInvite.max_uses,
    ).order_by(BoardInvite.created_at.desc())))


def withdraw(board, actor: User, invite_id) -> BoardInvite:
    require_role(board, actor, "owner")
    record = by_id(db.session, BoardInvite, invite_id)
    if record is None or record.board_id != board.id:
        raise NotFound("There is no such invitation on this board.")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit(actor, "invite.revoked", record.email or f"link {record.id}", board=board.key)
    return record


def invite_for(token: str) -> BoardInvite:
    """The invitation behind a link, while it can be used; InviteRefused says why not."""
    record = db.session.scalar(select(BoardInvite).where(
        BoardInvite.token_hash == digest(token or "")))
    if record is None:
        raise InviteRefused("This invitation is not valid: its board may have been deleted, or "
                            "the link was mistyped. Ask whoever invited you for a new one.")
    if record.revoked_at is not None:
        raise InviteRefused(f"This invitation to {record.board.name} was withdrawn.")
    if record.expires_at <= utcnow():
        raise InviteRefused(f"This invitation to {record.board.name} has expired; ask for a "
                            "new one.")
    if record.uses >= record.max_uses:
        raise InviteRefused(f"This invitation to {record.board.name} has been used up; ask "
                            "for a new one.")
    return record


def accept(token: str, user: User) -> tuple[BoardInvite, bool]:
    """Join the board through the invitation; (invite, whether the role changed). Someone who
    holds a role already keeps the higher of the two. A use is counted atomically, so a link
    for N people admits N even when more click at once."""
    record = invite_for(token)
    board = lock_board(record.board)
    member = db.session.get(BoardMember, (board.id, user.id))
    rank = {role: i for i, role in enumerate(ROLES)}
    if member is not None and rank[member.role] >= rank[record.role]:
        return record, False
    counted = db.session.execute(update(BoardInvite).where(
        BoardInvite.id == record.id, BoardInvite.uses < BoardInvite.max_uses,
        BoardInvite.revoked_at.is_(None)).values(uses=BoardInvite.uses + 1))
    if counted.rowcount != 1:
        raise InviteRefused(f"This invitation to {board.name} has been used up; ask for a new "
                            "one.")
    if record.email and (user.email or "").lower() == record.email.lower() \
            and user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached that address
    inviter = record.created_by
    if member is None:
        db.session.add(BoardMember(board_id=board.id, user=user, role=record.role))
        record_event(board, "member.added", actor=user, user=user.username, role=record.role,
                     invited_by=inviter.username if inviter else None)
    else:
        member.role = record.role
        record_event(board, "member.changed", actor=user, user=user.username, role=record.role,
                     invited_by=inviter.username if inviter else None)
    forget_roles()
    audit(user, "invite.accepted", user.username, board=board.key, role=record.role)
    return record, True
