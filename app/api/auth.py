"""Who is calling the API: a Bearer API token, or a logged-in browser session.

A token request carries no cookie-borne authority, so it needs no CSRF token; a session
request that changes something must send the CSRF token (X-CSRFToken), as our pages do.
"""

from flask import abort, g, request
from flask_login import current_user

from app.accounts.auth import bearer_token, token_user
from app.accounts.models import User
from app.extensions import csrf

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def authenticate_request() -> None:
    """Run before every API view: settle the caller or answer 401."""
    if bearer_token():
        # A token given is the identity asked for, even alongside a session cookie.
        user = token_user()
        if user is None:
            abort(401, "That API token is unknown or has been revoked.")
    elif current_user.is_authenticated:
        user = current_user._get_current_object()
        if request.method not in SAFE_METHODS:
            csrf.protect()
    else:
        abort(401, "Send an API token (Authorization: Bearer <token>) or log in first.")
    g.api_user = user


def api_user() -> User:
    return g.api_user
