"""Sending notifications by email, a round of the background runner.

Each round takes the notifications not yet dealt with by email (`emailed_at` unset, from the
last two days) of people with an address, and per person: what they want immediately goes now
(in one message), unless it is their quiet hours (then it waits for the end of them); what they
want in a digest goes once a day at their digest hour; what they want never is set aside.
A runner claims notifications before sending (so two runners never send one twice) and gives
them back when the SMTP server refuses (the next round tries again): a runner killed between
the claim and the send loses that email, never the notification in the inbox.
"""

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select, update

from app.accounts.models import User
from app.clock import utcnow
from app.extensions import db
from app.mail import link, mail_on, message_to, send
from app.notifications.email import (
    EVERY_KIND,
    digest_due,
    in_quiet_hours,
    settings_of,
    stored_settings,
    unsubscribe_token,
)
from app.notifications.models import KINDS, Notification

log = logging.getLogger(__name__)
WINDOW = timedelta(days=2)  # older notifications are left to the inbox
BATCH = 500


def email_round(runner_name: str, now: datetime | None = None) -> int:
    """Send what is due now; returns how many messages went."""
    if not mail_on():
        return 0
    now = now or utcnow()
    pending = db.session.execute(
        select(Notification, User).join(User, User.id == Notification.user_id)
        .where(Notification.emailed_at.is_(None), User.email.is_not(None),
               User.deactivated_at.is_(None), Notification.created_at > now - WINDOW)
        .order_by(Notification.id).limit(BATCH)).all()
    by_person: dict[int, tuple[User, list[Notification]]] = {}
    for notification, user in pending:
        by_person.setdefault(user.id, (user, []))[1].append(notification)
    sent = 0
    for user, notifications in by_person.values():
        sent += _send_to(user, notifications, now)
    return sent


def _send_to(user: User, notifications: list[Notification], now: datetime) -> int:
    settings = settings_of(user)
    wanted = {"immediately": [], "digest": [], "never": []}
    for notification in notifications:
        wanted[settings.choice(notification.kind)].append(notification)
    messages = []
    if wanted["immediately"] and not in_quiet_hours(settings, now):
        messages.append((False, wanted["immediately"]))
    if wanted["digest"] and digest_due(settings, now):
        messages.append((True, wanted["digest"]))
    _claim(wanted["never"], now)  # dealt with: no email
    sent = 0
    for digest, chosen in messages:
        claimed = _claim(chosen, now)
        if digest:
            stored_settings(user).last_digest_at = now
        db.session.commit()
        chosen = [n for n in chosen if n.id in claimed]
        if not chosen:
            continue
        try:
            send(compose(user, chosen, digest=digest))
            sent += 1
        except (OSError, smtplib.SMTPException) as error:
            log.warning("Email to %s failed (%s); trying again next round", user.email, error)
            db.session.execute(update(Notification).where(Notification.id.in_(claimed))
                               .values(emailed_at=None))
            db.session.commit()
    db.session.commit()
    return sent


def _claim(notifications: list[Notification], now: datetime) -> set[int]:
    """Mark them dealt with; the ids this runner got (another may have taken some first)."""
    if not notifications:
        return set()
    taken = db.session.execute(
        update(Notification)
        .where(Notification.id.in_([n.id for n in notifications]),
               Notification.emailed_at.is_(None))
        .values(emailed_at=now).returning(Notification.id))
    return set(taken.scalars())


def compose(user: User, notifications: list[Notification], *, digest: bool) -> EmailMessage:
    """One message: a notification alone, several at once, or the day's digest; plain text
    and HTML, with the one-click unsubscribe headers (RFC 8058)."""
    kinds = {n.kind for n in notifications}
    kind = kinds.pop() if len(kinds) == 1 and not digest else EVERY_KIND
    unsubscribe = link(f"/email/unsubscribe/{unsubscribe_token(user, kind)}")
    if digest:
        subject = f"Your Swarmboard digest: {len(notifications)} notification" + (
            "s" if len(notifications) != 1 else "")
    elif len(notifications) == 1:
        only = notifications[0]
        subject = (f"{only.card.key}: " if only.card else "") + only.text
    else:
        subject = f"{len(notifications)} new Swarmboard notifications"
    items = [{"notification": n, "url": link(n.url)} for n in notifications]
    context = dict(user=user, items=items, digest=digest, unsubscribe=unsubscribe,
                   kind_label=KINDS.get(kind, "all Swarmboard notifications").lower(),
                   profile=link("/profile#notifications"))
    message = message_to(user.email, subject, "inbox/email", **context)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message
