"""Pictures people choose for their avatar (initials are the default): checked by their first
bytes (PNG, JPEG or WebP, whatever the upload claims), at most 256 KiB, kept in the database so
every server process serves them. Their address carries a signed key of the person and picture
version: unguessable, so pages can show it to whoever sees the person (a wall display too)
without a login, and a new picture gets a new address."""

from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.accounts.models import User, UserAvatar
from app.clock import utcnow
from app.database import by_id
from app.errors import Invalid, NotFound
from app.extensions import db

MAX_BYTES = 256 * 1024
KINDS = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def _kind(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in KINDS if data.startswith(magic)), None)


def set_avatar(user: User, data: bytes) -> None:
    if not data:
        raise Invalid("Choose a picture file first.")
    if len(data) > MAX_BYTES:
        raise Invalid(f"The picture is {len(data) // 1024} KiB; at most 256 KiB, please "
                      "(a square of 256 pixels is plenty).")
    kind = _kind(data)
    if kind is None:
        raise Invalid("That file is not a PNG, JPEG or WebP picture.")
    avatar = db.session.get(UserAvatar, user.id)
    if avatar is None:
        avatar = UserAvatar(user_id=user.id)
        db.session.add(avatar)
    avatar.content_type, avatar.data, avatar.updated_at = kind, data, utcnow()
    user.avatar_version += 1


def remove_avatar(user: User) -> None:
    avatar = db.session.get(UserAvatar, user.id)
    if avatar is not None:
        db.session.delete(avatar)
    user.avatar_version = 0


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="avatar")


def avatar_key(user: User) -> str:
    return _key(current_app.config["SECRET_KEY"], user.id, user.avatar_version)


@lru_cache(maxsize=4096)
def _key(secret: str, user_id: int, version: int) -> str:
    """Signed once per person and picture (a board renders the same owners many times)."""
    return URLSafeSerializer(secret, salt="avatar").dumps([user_id, version])


def avatar_for_key(key: str) -> UserAvatar:
    """The picture a key names, while it is the person's current one."""
    try:
        user_id, version = _signer().loads(key)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("There is no such picture.") from None
    user = by_id(db.session, User, user_id)
    avatar = db.session.get(UserAvatar, user.id) if user is not None else None
    if avatar is None or user.avatar_version != version:
        raise NotFound("There is no such picture.")
    return avatar
