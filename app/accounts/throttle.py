"""Login throttling: repeated failures for one account, or from one address, first slow logins
down (each further try waits, the wait doubling) and then refuse them for a quarter of an hour.
The same sentence answers whether the account exists or not, and the counts live in the
database, so every server process sees them."""

from datetime import datetime, timedelta

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db

WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
# Failures in the window before waits begin: logins, and asking for password reset links
# (counted apart, so asking for links does not slow the address's logins down).
FREE = {"account": 5, "address": 20, "reset": 5, "reset-address": 20}
FIRST_WAIT = timedelta(seconds=15)
LONGEST_WAIT = timedelta(minutes=15)


class LoginFailures(db.Model):
    """Failed logins for one account name or one address, in the current window."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # account:ann, address:…
    failures: Mapped[int] = mapped_column(default=0)
    first_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]


def keys_for(username: str, address: str | None, *, what: str = "login") -> list[str]:
    """The counters a try counts against: the name tried, and the address it came from."""
    name, place = ("account", "address") if what == "login" else ("reset", "reset-address")
    return [f"{name}:{(username or '').strip().lower()[:100]}",
            f"{place}:{(address or 'unknown')[:100]}"]


def wait_left(keys: list[str], now: datetime | None = None) -> int:
    """Seconds until a login may be tried again (0: now)."""
    now = now or utcnow()
    waits = [(row.blocked_until - now).total_seconds()
             for row in (db.session.get(LoginFailures, key) for key in keys)
             if row is not None and row.blocked_until is not None and row.blocked_until > now]
    return int(max(waits, default=0) + 0.999)


def failed(keys: list[str], now: datetime | None = None) -> None:
    """Count a failed login against the account and the address."""
    now = now or utcnow()
    for key in keys:
        row = db.session.get(LoginFailures, key)
        if row is None:
            row = LoginFailures(key=key, failures=0, first_at=now)
            db.session.add(row)
        elif now - row.first_at > WINDOW and (row.blocked_until or now) <= now:
            row.failures, row.first_at, row.blocked_until = 0, now, None
        row.failures += 1
        over = row.failures - FREE[key.split(":", 1)[0]]
        if over > 0:
            row.blocked_until = now + min(FIRST_WAIT * 2 ** (over - 1), LONGEST_WAIT)
    db.session.flush()


def succeeded(keys: list[str]) -> None:
    """A good login forgets the account's failures (the address's stay)."""
    row = db.session.get(LoginFailures, keys[0])
    if row is not None:
        db.session.delete(row)
