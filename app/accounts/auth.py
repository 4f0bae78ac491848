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


def init_login(login) -> None:
    login.login_view = "accounts.login"
    login.login_message = "Please log in to see that page."
    login.login_message_category = "info"

    @login.user_loader
    def load_user(user_id: str) -> User | None:
        return by_id(db.session, User, user_id)

    @login.request_loader
    def load_user_from_token(_request) -> User | None:
        return token_user()
