"""Configuration, read from the environment in one place with safe defaults."""

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


def _secret_key(instance_path: Path) -> str:
    """A SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
    return key_file.read_text().strip()


def _words(value: str | None) -> list[str]:
    return [word.strip() for word in (value or "").split(",") if word.strip()]


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value in (None, "") else value.strip().lower() in ("1", "true", "yes", "on")


def from_environment(instance_path: Path) -> dict:
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'swarmboard.db'}"
    if database_url.startswith("postgres://"):  # Heroku-style URLs name an old dialect
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Processes sharing one Redis talk on this channel; separate deployments pick their own.
        "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL") or "flask-socketio",
        # threading suits `make run` and the tests; `make serve` runs gevent (see docs/serving.md).
        "SOCKETIO_ASYNC_MODE": os.environ.get("SOCKETIO_ASYNC_MODE", "threading"),
        # Other sites whose pages may open a socket with a Swarmboard login (comma-separated).
        "SOCKETIO_ALLOWED_ORIGINS": _words(os.environ.get("SOCKETIO_ALLOWED_ORIGINS")),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Cookies are Secure whenever a request comes over TLS; this forces it always.
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", False),
        # Behind a reverse proxy: trust its X-Forwarded-Proto/-Host/-For (docs/serving.md).
        "PROXY_FIX": _flag("PROXY_FIX", False),
        # Sites that may show Swarmboard's pages in a frame (a dashboard showing the wall);
        # none by default.
        "FRAME_ANCESTORS": _words(os.environ.get("FRAME_ANCESTORS")),
        "WTF_CSRF_TIME_LIMIT": None,  # a board tab stays open all day
        "API_TITLE": "Swarmboard API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Outgoing webhooks (docs/webhooks.md): the server process delivers them itself unless
        # WEBHOOKS_DELIVER_IN_PROCESS=0, when `flask --app wsgi deliver` runs as its own process.
        "WEBHOOKS_DELIVER_IN_PROCESS": _flag("WEBHOOKS_DELIVER_IN_PROCESS", True),
        "WEBHOOKS_ALLOW_PRIVATE": _flag("WEBHOOKS_ALLOW_PRIVATE", False),  # internal addresses
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT") or 5),  # seconds an answer
        # Where people open Swarmboard: the links in chat messages point there.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or "http://127.0.0.1:5000",
        # A swarm invitation unanswered this long gets a reminder (app/notifications).
        "INVITATION_REMINDER_MINUTES": int(os.environ.get("INVITATION_REMINDER_MINUTES") or 10),
        # Email (docs/notifications.md): off unless SMTP_URL or SMTP_HOST is set.
        "SMTP": smtp_settings(os.environ),
        "MAIL_FROM": os.environ.get("MAIL_FROM") or "Swarmboard <swarmboard@localhost>",
        # Single sign-on (docs/accounts.md): off unless OIDC_DISCOVERY_URL is set.
        "OIDC": oidc_settings(os.environ),
    }


def oidc_settings(env) -> dict | None:
    """OpenID Connect from OIDC_DISCOVERY_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET; None when
    the discovery URL is unset. OIDC_TEAM_MAP maps the provider's groups to teams
    ("sre=Site Reliability, ops=Operations"; "*" for groups named like teams)."""
    url = env.get("OIDC_DISCOVERY_URL")
    if not url:
        return None
    if not env.get("OIDC_CLIENT_ID") or not env.get("OIDC_CLIENT_SECRET"):
        raise ValueError("OIDC_DISCOVERY_URL needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too.")
    return {
        "discovery_url": url,
        "client_id": env["OIDC_CLIENT_ID"],
        "client_secret": env["OIDC_CLIENT_SECRET"],
        "name": env.get("OIDC_NAME") or "single sign-on",
        "scopes": env.get("OIDC_SCOPES") or "openid email profile",
        "auto_provision": (env.get("OIDC_AUTO_PROVISION") or "").lower() in ("1", "true", "yes"),
        "link_by_email": (env.get("OIDC_LINK_BY_EMAIL") or "1").lower() in ("1", "true", "yes"),
        "groups_claim": env.get("OIDC_GROUPS_CLAIM") or "groups",
        "team_map": team_map(env.get("OIDC_TEAM_MAP")),
    }


def team_map(value: str | None) -> dict | None:
    """"sre=Site Reliability, ops=Operations" as {group: team}; "*" maps groups named like a
    team to that team; None when unset (teams are then left alone)."""
    if not value:
        return None
    mapping = {}
    for pair in _words(value):
        group, _, team = pair.partition("=")
        mapping[group.strip()] = (team or group).strip()
    return mapping


def engine_options(database_url: str) -> dict:
    """PostgreSQL: a connection is checked before each use (one that died while PostgreSQL was
    unreachable is replaced, not handed out), and connecting gives up after 3 s, so a request
    during an outage is answered 503 within seconds rather than hanging."""
    if not database_url.startswith("postgresql"):
        return {}
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 3}}


SMTP_TLS = ("none", "starttls", "ssl")


def smtp_settings(env) -> dict | None:
    """The SMTP server from SMTP_URL (smtp://user:password@host:587?tls=starttls, or
    smtps://… for TLS from the start), else from SMTP_HOST, SMTP_PORT, SMTP_USER,
    SMTP_PASSWORD and SMTP_TLS (none, starttls or ssl); None when neither is set."""
    if url := env.get("SMTP_URL"):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587?tls=starttls "
                             "or smtps://user:password@host:465")
        tls = "ssl" if parts.scheme == "smtps" else parse_qs(parts.query).get("tls", ["none"])[0]
        settings = {"host": parts.hostname, "port": parts.port, "tls": tls,
                    "user": unquote(parts.username or ""),
                    "password": unquote(parts.password or "")}
    elif env.get("SMTP_HOST"):
        settings = {"host": env["SMTP_HOST"], "port": int(env.get("SMTP_PORT") or 0) or None,
                    "user": env.get("SMTP_USER") or "", "password": env.get("SMTP_PASSWORD") or "",
                    "tls": (env.get("SMTP_TLS") or "starttls").lower()}
    else:
        return None
    if settings["tls"] not in SMTP_TLS:
        raise ValueError(f"SMTP TLS must be one of {', '.join(SMTP_TLS)} (got {settings['tls']!r})")
    settings["port"] = settings["port"] or {"ssl": 465, "starttls": 587}.get(settings["tls"], 25)
    return settings
