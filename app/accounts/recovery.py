"""Links sent by email: reset a forgotten password, confirm an email address. Each link holds a
random token of which only the SHA-256 is stored; it works once, for a limited time, and only
for an active person. Asking for a reset answers the same whether the address is known or not.
"""

import logging
import secrets
import smtplib
from datetime import timedelta

from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.audit import audit
from app.accounts.models import AccountToken, User
from app.accounts.services import MIN_PASSWORD
from app.clock import utcnow
from app.errors import Invalid
from app.extensions import db
from app.mail import link, mail_on, message_to, send
from app.tokens import digest

log = logging.getLogger(__name__)
LIFETIME = {"reset": timedelta(hours=1), "verify": timedelta(days=3),
            "welcome": timedelta(days=7)}  # welcome: an admin's new person sets a password
PURPOSES = {"reset": "reset", "welcome": "reset", "verify": "verify"}
PATHS = {"reset": "/password/reset/", "verify": "/email/verify/"}


class LinkRefused(Invalid):
    """A link that cannot be used (unknown, used, expired, or its person deactivated)."""

    status = 400
    code = "link_refused"


def issue_link(user: User, purpose: str, email: str | None = None) -> str:
    """A new link for `user` (the address on the page that uses it); earlier unused links of
    the same purpose stop working."""
    kind = PURPOSES[purpose]
    now = utcnow()
    db.session.execute(update(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.purpose == kind,
        AccountToken.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    db.session.add(AccountToken(user_id=user.id, purpose=kind, email=email,
                                token_hash=digest(token), expires_at=now + LIFETIME[purpose]))
    db.session.flush()
    return link(PATHS[kind] + token)


def check_link(token: str, purpose: str) -> AccountToken:
    """The stored token behind a link, while it can be used; LinkRefused says why not."""
    record = db.session.scalar(select(AccountToken).where(
        AccountToken.token_hash == digest(token or ""), AccountToken.purpose == purpose))
    what = "password reset" if purpose == "reset" else "confirmation"
    if record is None:
        raise LinkRefused(f"This {what} link is not valid; ask for a new one.")
    if record.used_at is not None:
        raise LinkRefused(f"This {what} link was already used (or a newer one was sent); "
                          "ask for a new one.")
    if record.expires_at <= utcnow():
        raise LinkRefused(f"This {what} link has expired; ask for a new one.")
    if not record.user.is_active:
        raise LinkRefused("This account is deactivated; ask a site admin.")
    return record


def _use(record: AccountToken) -> None:
    """Spend the token, once: two tabs submitting the same link cannot both succeed."""
    spent = db.session.execute(update(AccountToken).where(
        AccountToken.id == record.id, AccountToken.used_at.is_(None)).values(used_at=utcnow()))
    if spent.rowcount != 1:
        raise LinkRefused("This link was already used; ask for a new one.")


def check_new_password(password: str, again: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"The new password must be at least {MIN_PASSWORD} characters.")
    if len(password) > 200:
        raise Invalid("The new password must be at most 200 characters.")
    if password != again:
        raise Invalid("The two passwords differ; type the same one twice.")
    return password


def reset_password(token: str, password: str, again: str) -> User:
    """Set the password a reset link was sent for; every session made before ends, and the
    address the link went to counts as confirmed."""
    record = check_link(token, "reset")
    password = check_new_password(password, again)
    _use(record)
    user = record.user
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    if record.email and record.email == user.email and user.email_verified_at is None:
        user.email_verified_at = utcnow()
    audit(user, "password.reset", user.username)
    return user


def change_password(user: User, current: str, password: str, again: str) -> User:
    """Change one's own password (the current one is asked for, unless there is none, as for a
    person made by single sign-on); other sessions end."""
    if user.can_use_password and not check_password_hash(user.password_hash, current or ""):
        raise Invalid("Your current password is not that one.")
    user.password_hash = generate_password_hash(check_new_password(password, again))
    user.session_version += 1
    audit(user, "password.changed", user.username)
    return user


def confirm_email(token: str) -> User:
    record = check_link(token, "verify")
    user = record.user
    if (record.email or "").lower() != (user.email or "").lower():
        raise LinkRefused("This confirmation link is for an address you no longer use; "
                          "ask for a new one from your profile.")
    _use(record)
    user.email_verified_at = utcnow()
    audit(user, "email.verified", user.username, email=user.email)
    return user


# --- sending the links --------------------------------------------------------------------


def _mail(user: User, address: str, subject: str, template: str, **context) -> bool:
    """Send now; False (and a log line) if the SMTP server refuses or cannot be reached."""
    try:
        send(message_to(address, subject, template, user=user, **context))
        return True
    except (OSError, smtplib.SMTPException) as error:
        log.warning("Account email to %s failed: %s", address, error)
        return False


def send_reset(email_or_username: str) -> None:
    """Email a reset link if the name or address belongs to an active person with a confirmed
    address. Says nothing either way (the page answers the same for everyone), so call it and
    commit whatever the outcome."""
    name = (email_or_username or "").strip().lower()
    if not name or not mail_on():
        return
    column = User.email if "@" in name else User.username
    user = db.session.scalar(select(User).where(func.lower(column) == name))
    if user is None or not user.is_active or not user.email or user.email_verified_at is None:
        return
    url = issue_link(user, "reset", user.email)
    audit(None, "password.reset_sent", user.username)
    db.session.commit()  # the link must exist before the email that carries it leaves
    _mail(user, user.email, "Reset your Swarmboard password", "accounts/email/reset", url=url,
          hours=int(LIFETIME["reset"].total_seconds() // 3600))


def send_welcome(actor: User, user: User) -> str:
    """A link for someone to set their password (a new person, or an admin's reset): emailed
    when there is an address and email is on; returned for the admin to hand over otherwise."""
    url = issue_link(user, "welcome", user.email)
    audit(actor, "password.reset_sent", user.username, by_admin=True)
    return url


def mail_welcome(user: User, url: str, actor: User) -> bool:
    if not (mail_on() and user.email):
        return False
    return _mail(user, user.email, "Set your Swarmboard password", "accounts/email/welcome",
                 url=url, actor=actor, days=LIFETIME["welcome"].days)


def send_confirmation(user: User) -> bool:
    """Email a link that confirms the person's address; False when it could not go."""
    if not (mail_on() and user.email) or user.email_verified_at is not None:
        return False
    url = issue_link(user, "verify", user.email)
    audit(user, "email.verify_sent", user.username, email=user.email)
    db.session.commit()
    return _mail(user, user.email, "Confirm your email address for Swarmboard",
                 "accounts/email/verify", url=url, days=LIFETIME["verify"].days)
