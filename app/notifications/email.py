"""A person's email settings: their address, per kind of notification immediately, in a daily
digest or never, quiet hours in their time zone, and the one-click unsubscribe links that every
email carries. Sending is app/notifications/mailer.py."""

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.accounts.admin import clean_email
from app.accounts.models import User
from app.errors import Invalid, NotFound
from app.extensions import db
from app.notifications.models import DEFAULT_EMAIL, EMAIL_CHOICES, KINDS, MailSettings
from app.validation import choice

CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
EVERY_KIND = "*"


def settings_of(user: User) -> MailSettings:
    """The person's settings (the defaults, unsaved, until they change them)."""
    return db.session.get(MailSettings, user.id) or MailSettings(
        user_id=user.id, choices={}, timezone="UTC", digest_hour=8)


def stored_settings(user: User) -> MailSettings:
    """The person's settings row, made (with the defaults) if they have none yet."""
    settings = db.session.get(MailSettings, user.id)
    if settings is None:
        settings = MailSettings(user_id=user.id, choices={}, timezone="UTC", digest_hour=8)
        db.session.add(settings)
    return settings


def _clock(value, what: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not CLOCK.match(value):
        raise Invalid(f"{what} must be a time like 22:00 (got {value[:10]!r}).")
    return value


def update_mail_settings(user: User, *, email, choices: dict, timezone, quiet_from,
                         quiet_until, digest_hour) -> MailSettings:
    """Save what the person chose; Invalid names the first thing that is wrong."""
    email = clean_email(email, owner=user)
    timezone = (timezone or "UTC").strip()
    if timezone not in available_timezones() and timezone != "UTC":
        raise Invalid(f"{timezone[:60]!r} is not a time zone like Europe/Paris.")
    quiet = (_clock(quiet_from, "Quiet hours start"), _clock(quiet_until, "Quiet hours end"))
    if (quiet[0] is None) != (quiet[1] is None):
        raise Invalid("Give quiet hours both a start and an end, or neither.")
    if not str(digest_hour).isdigit() or not 0 <= int(digest_hour) <= 23:
        raise Invalid("The digest hour must be a whole hour from 0 to 23.")
    chosen = {kind: choice(choices.get(kind) or DEFAULT_EMAIL[kind], EMAIL_CHOICES,
                           f"Email for {KINDS[kind].lower()}") for kind in KINDS}
    if (email or None) != user.email:
        user.email_verified_at = None  # a new address is confirmed by a link sent to it
    user.email = email or None
    settings = stored_settings(user)
    settings.choices, settings.timezone = chosen, timezone
    settings.quiet_from, settings.quiet_until = quiet
    settings.digest_hour = int(digest_hour)
    db.session.flush()
    return settings


def local_time(settings: MailSettings, now: datetime) -> datetime:
    """`now` (naive UTC) on the person's clock."""
    try:
        zone = ZoneInfo(settings.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)


def in_quiet_hours(settings: MailSettings, now: datetime) -> bool:
    """Whether `now` falls in the person's quiet hours (which may run past midnight)."""
    if not settings.quiet_from or not settings.quiet_until:
        return False
    start, end = (time.fromisoformat(settings.quiet_from),
                  time.fromisoformat(settings.quiet_until))
    clock = local_time(settings, now).time()
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end


def digest_due(settings: MailSettings, now: datetime) -> bool:
    """Once a day, from the person's digest hour on, outside quiet hours."""
    local = local_time(settings, now)
    if local.hour < settings.digest_hour or in_quiet_hours(settings, now):
        return False
    last = settings.last_digest_at
    return last is None or local_time(settings, last).date() < local.date()


# --- unsubscribing ------------------------------------------------------------------------------


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="email-unsubscribe")


def unsubscribe_token(user: User, kind: str = EVERY_KIND) -> str:
    return _signer().dumps({"u": user.id, "k": kind})


def read_unsubscribe_token(token: str) -> tuple[User, str]:
    try:
        found = _signer().loads(token)
        user = db.session.get(User, int(found["u"]))
        kind = found["k"]
    except (BadSignature, KeyError, TypeError, ValueError):
        user, kind = None, None
    if user is None or (kind != EVERY_KIND and kind not in KINDS):
        raise NotFound("This unsubscribe link is not valid; change your email settings on your "
                       "profile instead.")
    return user, kind


def unsubscribe(user: User, kind: str) -> None:
    """No more email of this kind (every kind: EVERY_KIND); the inbox keeps everything."""
    settings = stored_settings(user)
    kinds = list(KINDS) if kind == EVERY_KIND else [kind]
    settings.choices = {**{k: settings.choice(k) for k in KINDS},
                        **{k: "never" for k in kinds}}
    db.session.flush()
