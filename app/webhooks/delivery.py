"""Delivering webhooks from the event log.

Each webhook keeps a cursor: the seq of the last event it is done with. A deliverer takes a
webhook for a while (a lease, so several deliverer processes never send the same webhook's
events at once), reads the events after its cursor, POSTs each wanted one (outside any database
transaction) and moves the cursor past it in a short transaction of its own, with a line in the
delivery log. So a restart, or a deliverer killed mid-batch, loses nothing: the next one reads
on from the cursor. The one event that was in flight may arrive twice; it carries the same
`X-Swarmboard-Delivery` id both times (receivers keep the ids they have seen).

A failure (no answer in time, a refused connection, any status but 2xx) stops the webhook there:
the same event is tried again after a growing wait, and after a day of failures the webhook is
paused until an owner resumes it, from the same event. Events of other webhooks go on.

`make run` delivers from the server process (a background thread woken by every commit);
at scale, `flask --app wsgi deliver` runs as a process of its own (docs/webhooks.md).
"""

import hashlib
import hmac
import http.client
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib import request as urllib_request
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm.exc import StaleDataError

from app.boards.models import Board
from app.cards.contract import events_as_dicts
from app.cards.models import Card
from app.clock import utcnow
from app.database import rows
from app.events import hooks
from app.events.services import events_since
from app.extensions import db
from app.webhooks.chat import chat_message
from app.webhooks.models import Webhook, WebhookDelivery, taken
from app.webhooks.services import checked_addresses, wants

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BATCH = 100  # events read at a time
BACKOFF_SECONDS = (10, 30, 60, 120, 300, 600, 1800)  # then hourly
GIVE_UP_AFTER = timedelta(days=1)
LOG_KEPT = 200  # delivery log lines kept per webhook (about: pruned every PRUNE_EVERY events)
PRUNE_EVERY = 50
ANSWER_READ = 1024  # bytes of a receiver's answer read (and dropped)
USER_AGENT = "Swarmboard-Webhook/1"


@dataclass(frozen=True)
class Target:
    """What a delivery needs of its webhook, read once: no database work while we wait on the
    receiver (on SQLite a transaction would hold the write lock all that time)."""

    id: int
    url: str
    secret: str
    event_types: list
    format: str

    @classmethod
    def of(cls, webhook: Webhook) -> "Target":
        return cls(webhook.id, webhook.url, webhook.secret, list(webhook.event_types or []),
                   webhook.format)


def body_for(target: Target, event: dict, title: str | None = None) -> dict:
    """What the receiver gets: the event itself, or a chat's message about it."""
    return event if target.format == "json" else chat_message(target.format, event, title)


@dataclass
class Answer:
    status: int | None
    ms: float | None
    error: str | None

    @property
    def ok(self) -> bool:
        return taken(self.status)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class _NoRedirects(urllib_request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect could lead anywhere: not followed
        return None


_opener = urllib_request.build_opener(_NoRedirects)


def _pinned(connection_class, address: str):
    """http.client connections to the URL's host name (its Host header, its TLS name and
    certificate check) whose socket goes to `address`, the one that was checked."""
    def connection(host, **kwargs):
        made = connection_class(host, **kwargs)
        # http.client opens its socket through this attribute; the port stays the URL's.
        made._create_connection = lambda target, *args, **kw: socket.create_connection(
            (address, target[1]), *args, **kw)
        return made
    return connection


class _PinnedHTTP(urllib_request.HTTPHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(_pinned(http.client.HTTPConnection, self.address), req)


class _PinnedHTTPS(urllib_request.HTTPSHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def https_open(self, req):
        return self.do_open(_pinned(http.client.HTTPSConnection, self.address), req,
                            context=self._context)


def _opener_for(addresses: list[str]):
    if not addresses:  # internal addresses allowed: nothing to pin
        return _opener
    return urllib_request.build_opener(_NoRedirects, _PinnedHTTP(addresses[0]),
                                       _PinnedHTTPS(addresses[0]))


def post(webhook: Target, kind: str, delivery_id: str, payload: dict) -> Answer:
    """POST one signed JSON payload to the webhook's URL and say how it went. The host name is
    resolved and checked once, and the connection goes to the address checked."""
    host = urlsplit(webhook.url).hostname or ""
    addresses, reason = checked_addresses(host)
    if reason:
        return Answer(None, None, reason)
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    outgoing = urllib_request.Request(webhook.url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Swarmboard-Event": kind,
        "X-Swarmboard-Delivery": delivery_id,
        "X-Swarmboard-Timestamp": timestamp,
        "X-Swarmboard-Signature-256": signature(webhook.secret, timestamp, body),
    })
    started = time.perf_counter()
    try:
        with _opener_for(addresses).open(outgoing,
                                         timeout=current_app.config["WEBHOOK_TIMEOUT"]) as answer:
            answer.read(ANSWER_READ)
            status, error = answer.status, None
    except HTTPError as refused:
        status, error = refused.code, f"HTTP {refused.code} {refused.reason}"
    except (URLError, OSError, ValueError) as failed:  # refused, unreachable, timed out…
        reason = getattr(failed, "reason", None) or failed
        status, error = None, str(reason) or type(reason).__name__
    ms = (time.perf_counter() - started) * 1000
    if status is not None and not taken(status) and error is None:
        error = f"HTTP {status}"
    return Answer(status, round(ms, 1), error[:500] if error else None)


def send_test(webhook: Webhook) -> WebhookDelivery:
    """The settings page's "send a test": a `ping` now, logged like any delivery; the cursor
    stays where it is."""
    board = webhook.board
    payload = {"board": board.key, "seq": None, "type": "ping", "at": utcnow().isoformat() + "Z",
               "actor": None, "card": None, "data": {"webhook": webhook.name}}
    target = Target.of(webhook)
    answer = post(target, "ping", f"{webhook.id}-test-{uuid.uuid4().hex[:8]}",
                  body_for(target, payload))
    line = WebhookDelivery(webhook_id=webhook.id, seq=None, event_type="ping", attempt=1,
                           status=answer.status, ms=answer.ms, error=answer.error)
    db.session.add(line)
    db.session.flush()
    return line


# --- the deliverer -------------------------------------------------------------------------


def deliver_due(owner: str, now: datetime | None = None) -> int:
    """Deliver what is due, webhook by webhook; the number of events sent (or tried)."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Webhook.id).join(Board, Board.id == Webhook.board_id).where(
            Webhook.paused_at.is_(None),
            Webhook.cursor < Board.last_seq,
            or_(Webhook.next_attempt_at.is_(None), Webhook.next_attempt_at <= now),
            or_(Webhook.lease_until.is_(None), Webhook.lease_until < now),
        ).order_by(Webhook.id)
    ).all()
    db.session.commit()  # no transaction stays open while we wait on receivers
    return sum(deliver_webhook(webhook_id, owner, now) for webhook_id in due)


def deliver_webhook(webhook_id: int, owner: str, now: datetime) -> int:
    if not _claim(webhook_id, owner, now):
        return 0  # another deliverer has it
    sent = 0
    try:
        while True:
            webhook = db.session.get(Webhook, webhook_id)
            if webhook is None or webhook.lease_owner != owner or webhook.paused_at is not None:
                return sent
            events = events_since(webhook.board, webhook.cursor, limit=BATCH)
            if not events:
                return sent
            target, tries_before = Target.of(webhook), webhook.failures
            titles = _titles(events) if target.format != "json" else {}
            pending = [(event.seq, event.type, body_for(target, payload, titles.get(event.card_id)))
                       for event, payload
                       in zip(events, events_as_dicts(webhook.board, events), strict=True)]
            db.session.commit()
            for seq, kind, payload in pending:
                if not wants(target, kind):
                    continue
                answer = post(target, kind, f"{target.id}-{seq}", payload)
                sent += 1
                if not _settle(webhook_id, owner, seq, kind, answer, now, tries_before):
                    return sent
                tries_before = 0
            last_seq, last_kind, _payload = pending[-1]
            if not wants(target, last_kind):  # the batch ends with ones it does not want
                _move_cursor(webhook_id, owner, last_seq)
            now = max(now, utcnow())
    finally:
        _release(webhook_id, owner)


def _titles(events) -> dict[int, str]:
    """Card titles for a chat's sentences (one query)."""
    ids = {event.card_id for event in events if event.card_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(Card.id, Card.title).where(Card.id.in_(ids))).all())


def _claim(webhook_id: int, owner: str, now: datetime) -> bool:
    claimed = db.session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id,
               or_(Webhook.lease_until.is_(None), Webhook.lease_until < now))
        .values(lease_owner=owner, lease_until=now + LEASE)
    ).rowcount == 1
    db.session.commit()
    return claimed


def _release(webhook_id: int, owner: str) -> None:
    db.session.rollback()
    db.session.execute(update(Webhook).where(Webhook.id == webhook_id,
                                             Webhook.lease_owner == owner)
                       .values(lease_owner=None, lease_until=None))
    db.session.commit()


def _move_cursor(webhook_id: int, owner: str, seq: int) -> None:
    db.session.execute(update(Webhook).where(
        Webhook.id == webhook_id, Webhook.lease_owner == owner, Webhook.cursor < seq
    ).values(cursor=seq))
    db.session.commit()


# A delivery taken is settled by two plain statements in a transaction of its own, the
# commonest write here: few steps while it holds SQLite's write lock, which movers wait for.
_TAKEN = update(Webhook.__table__).where(
    Webhook.__table__.c.id == bindparam("webhook"),
    Webhook.__table__.c.lease_owner == bindparam("owner"),
).values(cursor=bindparam("seq"), failures=0, failing_since=None, next_attempt_at=None,
         lease_until=bindparam("until"))
_LOGGED = WebhookDelivery.__table__.insert()


def _settle(webhook_id: int, owner: str, seq: int, kind: str, answer: Answer,
            now: datetime, tries_before: int) -> bool:
    """Record how the delivery went; True when the webhook may go on to its next event."""
    line = dict(webhook_id=webhook_id, seq=seq, event_type=kind, attempt=tries_before + 1,
                at=utcnow(), status=answer.status, ms=answer.ms, error=answer.error)
    if answer.ok:
        taken = rows(db.session, _TAKEN, {"webhook": webhook_id, "owner": owner, "seq": seq,
                                          "until": line["at"] + LEASE}).rowcount == 1
        if taken:
            rows(db.session, _LOGGED, line)
            if seq % PRUNE_EVERY == 0:
                _prune_log(webhook_id)
        db.session.commit()
        return taken  # not taken: deleted by an owner, or the lease lost: stop here
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None or webhook.lease_owner != owner:
        db.session.rollback()
        return False
    attempt = webhook.failures + 1
    db.session.add(WebhookDelivery(**{**line, "attempt": attempt}))
    webhook.failures = attempt
    webhook.failing_since = webhook.failing_since or now
    wait = BACKOFF_SECONDS[attempt - 1] if attempt <= len(BACKOFF_SECONDS) else 3600
    webhook.next_attempt_at = now + timedelta(seconds=wait)
    if now - webhook.failing_since >= GIVE_UP_AFTER:
        webhook.paused_at = now
        webhook.paused_reason = (f"Paused after failing for a day at event {seq} ({kind}): "
                                 f"{answer.error}")
    _prune_log(webhook_id)
    try:
        db.session.commit()
    except StaleDataError:  # deleted by an owner meanwhile
        db.session.rollback()
    return False


def _prune_log(webhook_id: int) -> None:
    oldest_kept = db.session.scalar(
        select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc()).offset(LOG_KEPT).limit(1))
    if oldest_kept is not None:
        db.session.execute(delete(WebhookDelivery).where(
            WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.id <= oldest_kept))


class Deliverer:
    """Delivers due webhooks until stopped: at once when a commit in this process recorded
    events (the `committed` hook wakes it), else every `poll` seconds (another process's
    changes, retries that come due). Each round also runs the other background work the app
    registered in `app.extensions["sb_rounds"]` (reminders and email: app/notifications)."""

    def __init__(self, app, poll: float):
        self.app, self.poll = app, poll
        self.name = f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.wake, self.stop = threading.Event(), threading.Event()

    def run_round(self) -> int:
        """Deliver what is due and run the other rounds once; how many webhook events went."""
        sent = 0
        for round_ in (deliver_due, *self.app.extensions.get("sb_rounds", [])):
            with self.app.app_context():
                try:
                    sent += round_(self.name)
                except Exception:  # a bad round must not end delivery: log it, go on
                    log.exception("Background round %s failed", round_)
                    db.session.rollback()
                finally:
                    db.session.remove()
        return sent

    def run(self) -> None:
        while not self.stop.is_set():
            if not self.run_round():
                self.wake.wait(self.poll)
                self.wake.clear()


_starting = threading.Lock()


def start_in_process(app) -> Deliverer:
    """The server process's own deliverer, in a background thread (once per process)."""
    with _starting:
        deliverer = app.extensions.get("sb_deliverer")
        if deliverer is None:
            deliverer = app.extensions["sb_deliverer"] = Deliverer(app, poll=5.0)
            threading.Thread(target=deliverer.run, name="webhook-deliverer", daemon=True).start()
    return deliverer


def init_delivery(app) -> None:
    """A server process delivers webhooks itself from its first request on (a command, which
    serves none, does not), unless WEBHOOKS_DELIVER_IN_PROCESS is off: then `flask deliver`."""
    if not app.config["WEBHOOKS_DELIVER_IN_PROCESS"]:
        return

    @app.before_request
    def _deliver_in_process() -> None:
        if "sb_deliverer" not in app.extensions:
            start_in_process(app)


@hooks.committed.connect
def _wake_deliverer(session, *, batch: hooks.Batch) -> None:
    deliverer = current_app.extensions.get("sb_deliverer") if has_app_context() else None
    if deliverer is not None:
        deliverer.wake.set()
