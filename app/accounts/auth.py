"""Who is asking: a browser session (Flask-Login) or a Bearer API token."""

from flask import request

from app.accounts.models import User
from app.accounts.services import user_for_token
from app.database import by_id
from app.extensions import db


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


TOKEN_USER = "swarmboard.token_user"


def token_user() -> User | None:
    """The user the request's Bearer token names (None if none or unknown); looked up once
    per request, however many layers ask."""
    if TOKEN_USER not in request.environ:  # the request's own storage, not the app context's
        token = bearer_token()
        read_only = request.method in ("GET", "HEAD", "OPTIONS")
        request.environ[TOKEN_USER] = user_for_token(token, read_only=read_only) if token else None
    return request.environ[TOKEN_USER]


def user_for_session(session_id: str) -> User | None:
    """The person a session names ("<id>.<session version>"), while they are active and the
    session is not older than their last reset, deactivation or "log out everywhere". A bare
    id (sessions made before versions existed) stands only while nothing has ended them."""
    user_id, _, version = str(session_id).partition(".")
    user = by_id(db.session, User, user_id)
    if user is None or not user.is_active:
        return None
    if str(user.session_version) != (version or "0"):
        return None
    return user


def init_login(login) -> None:
    login.login_view = "accounts.login"
    login.login_message = "Please log in to see that page."
    login.login_message_category = "info"

    @login.user_loader
    def load_user(session_id: str) -> User | None:
        return user_for_session(session_id)

    @login.request_loader
    def load_user_from_token(_request) -> User | None:
        return token_user()
