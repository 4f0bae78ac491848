"""Starting a session, whichever way someone proved who they are (a password, LDAP, single
sign-on), and where they go next: the page they asked for, or the invitation they came with."""

from urllib.parse import urlparse

from flask import redirect, request, session, url_for
from flask_login import login_user

from app.accounts.audit import audit
from app.accounts.models import User
from app.clock import utcnow
from app.extensions import db

INVITE_KEY = "sb_invite"  # an invitation waiting for its invitee to log in or sign up
NEXT_KEY = "sb_next"  # where to go after a login that left the site (single sign-on)


def _safe_next(target: str | None) -> str:
    """Only a path on this site ("//host" and "/\\host" are other sites to a browser)."""
    if (target and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and not urlparse(target).netloc):
        return target
    return url_for("accounts.home")


def signed_in(user: User, how: str, *, remember: bool = False, **detail):
    """Start the session of someone who proved who they are: noted in the audit log; on to the
    page they asked for, or to the invitation they came with."""
    user.last_login_at = utcnow()
    audit(user, how, user.username, **detail)
    db.session.commit()
    login_user(user, remember=remember)
    if token := session.pop(INVITE_KEY, None):
        return redirect(url_for("invites.join", token=token))
    return redirect(_safe_next(request.args.get("next") or session.pop(NEXT_KEY, None)))
