"""Board owners' webhooks: add one (a URL, the events it wants; the secret is made here and shown
once), change it, delete it, resume a paused one. Where the URL may point is checked here and
again before every delivery (app/webhooks/delivery.py)."""

import ipaddress
import re
import secrets
import socket
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.boards.access import require_role
from app.boards.models import Board
from app.errors import Invalid, NotFound
from app.extensions import db
from app.validation import choice, clean_text
from app.webhooks.chat import FORMATS
from app.webhooks.models import Webhook

MAX_WEBHOOKS = 20  # a board's
MAX_URL = 2000
# The groups a webhook can choose from (docs/events.md lists every type in each).
EVENT_GROUPS = {
    "card": "Cards: created, edited, moved, blocked, archived…",
    "swarm": "Swarms: started, invitations, messages, decisions, resolved…",
    "standup": "Stand-ups: started, focus, notes, ended",
    "wip": "WIP limit overrides",
    "alert": "Alerts received from monitoring: fired, resolved",
    "board": "The board's own settings",
    "column": "Columns added, changed, reordered, removed",
    "lane": "Lanes added, changed, reordered, removed",
    "member": "Members added, changed, removed",
    "review": "Post-incident reviews: drafted, written, actions, published",
    "improvement": "The improvement register: baselines taken, verdicts given",
    "retro": "Retrospectives: started, notes, groups, votes, phases, actions, closed",
    "slo": "Error budgets: objectives defined, budget low, spent, recovered; feature work "
           "started anyway",
}
EVENT_TYPE = re.compile(r"^([a-z]+)\.(\*|[a-z_]+)$")


def event_types(value) -> list[str]:
    """What a webhook wants: a list (or comma-separated text) of groups like `card.*` or types
    like `card.moved`; empty means every event."""
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise Invalid("Event types must be a list like [\"card.*\", \"swarm.resolved\"].")
    chosen = []
    for item in items:
        match = EVENT_TYPE.match(item.strip()) if isinstance(item, str) else None
        if match is None or match[1] not in EVENT_GROUPS:
            raise Invalid(f"{item!r} is not an event type; say e.g. card.* or card.moved "
                          f"(groups: {', '.join(EVENT_GROUPS)}).")
        if item.strip() not in chosen:
            chosen.append(item.strip())
    return chosen


def wants(webhook, event_type: str) -> bool:
    """Whether a webhook (or its delivery Target) asked for events of this type."""
    if not webhook.event_types:
        return True
    group = event_type.split(".", 1)[0]
    return event_type in webhook.event_types or f"{group}.*" in webhook.event_types


def refused_address(host: str) -> str | None:
    """Why a webhook may not call `host` (a private, loopback or otherwise internal address),
    or None. Internal addresses are allowed only where an admin set WEBHOOKS_ALLOW_PRIVATE."""
    return checked_addresses(host)[1]


def checked_addresses(host: str) -> tuple[list[str], str | None]:
    """The addresses `host` resolves to, all public, or why not (a refusal). A delivery then
    connects to one of exactly these addresses: a name that resolved to a public address when
    checked cannot send the connection to an internal one when made (DNS rebinding). With
    WEBHOOKS_ALLOW_PRIVATE nothing is checked or pinned: ([], None)."""
    if current_app.config.get("WEBHOOKS_ALLOW_PRIVATE"):
        return [], None
    try:
        found = list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, None)))
    except (OSError, UnicodeError):
        return [], f"{host} cannot be found."
    for address in found:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            return [], (f"{host} is an internal address ({ip}); webhooks go to public addresses "
                        "unless an admin allows internal ones (WEBHOOKS_ALLOW_PRIVATE).")
    return found, None


def webhook_url(value) -> str:
    """An http(s) URL with a host, at most 2,000 characters, not to an internal address."""
    url = clean_text(value, "URL", MAX_URL)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"{url!r} is not a web address; give one like https://example.com/hook.")
    if parts.username or parts.password:
        raise Invalid("Put no user name or password in the URL; the signature proves the sender.")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as error:
        raise Invalid(f"{url!r} has a bad port.") from error
    if reason := refused_address(parts.hostname):
        raise Invalid(reason)
    return url


def create_webhook(board: Board, actor: User, *, name, url, types=None,
                   format: str = "json") -> Webhook:
    """Add a webhook (owners). It gets the events recorded from now on, as the event contract's
    JSON signed with its `secret` (shown to the owner once), or as a chat's message (`format`:
    slack, mattermost, teams)."""
    require_role(board, actor, "owner")
    name = clean_text(name, "Name", 80)
    url = webhook_url(url)
    types = event_types(types)
    format = choice(format or "json", FORMATS, "Format")
    if len(webhooks_of(board)) >= MAX_WEBHOOKS:
        raise Invalid(f"A board has at most {MAX_WEBHOOKS} webhooks.")
    webhook = Webhook(board_id=board.id, name=name, url=url, format=format, event_types=types,
                      secret="whsec_" + secrets.token_hex(24), cursor=board.last_seq,
                      created_by_id=actor.id)
    db.session.add(webhook)
    db.session.flush()
    return webhook


def update_webhook(board: Board, actor: User, webhook_id, *, name=None, url=None,
                   types=None, format: str | None = None) -> Webhook:
    require_role(board, actor, "owner")
    webhook = webhook_of(board, webhook_id)
    if name is not None:
        webhook.name = clean_text(name, "Name", 80)
    if url is not None:
        webhook.url = webhook_url(url)
    if types is not None:
        webhook.event_types = event_types(types)
    if format is not None:
        webhook.format = choice(format, FORMATS, "Format")
    db.session.flush()
    return webhook


def resume_webhook(board: Board, actor: User, webhook_id) -> Webhook:
    """Deliver again after a pause, from where it stopped: nothing recorded meanwhile is lost."""
    require_role(board, actor, "owner")
    webhook = webhook_of(board, webhook_id)
    webhook.paused_at = webhook.paused_reason = None
    webhook.failures, webhook.failing_since, webhook.next_attempt_at = 0, None, None
    db.session.flush()
    return webhook


def delete_webhook(board: Board, actor: User, webhook_id) -> None:
    require_role(board, actor, "owner")
    db.session.delete(webhook_of(board, webhook_id))
    db.session.flush()


def webhooks_of(board: Board) -> list[Webhook]:
    return list(db.session.scalars(
        select(Webhook).where(Webhook.board_id == board.id).order_by(Webhook.id)))


def webhook_of(board: Board, webhook_id) -> Webhook:
    try:
        webhook_id = int(webhook_id)
    except (TypeError, ValueError):
        webhook_id = 0
    webhook = db.session.get(Webhook, webhook_id) if 0 < webhook_id < 2**31 else None
    if webhook is None or webhook.board_id != board.id:
        raise NotFound(f"Board {board.key} has no webhook {webhook_id!r}.")
    return webhook
