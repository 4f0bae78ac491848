"""Outgoing webhooks: a board's events reach the receivers its owners chose, signed and in order,
driven from the event log so that a receiver that was down, or a deliverer that died, loses
nothing. Every receiver here is a real HTTP server on 127.0.0.1."""

import hashlib
import hmac
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select

from app.cards.contract import events_as_dicts
from app.cards.moves import move_card
from app.cards.services import block_card, create_card, unblock_card
from app.clock import utcnow
from app.errors import Forbidden, Invalid, NotFound
from app.events.services import events_since
from app.extensions import db
from app.swarms import services as swarms
from app.webhooks.delivery import deliver_due, start_in_process
from app.webhooks.models import Webhook, WebhookDelivery
from app.webhooks.services import create_webhook, resume_webhook
from tests import factories as make
from tests.receivers import Receiver

ROOT = Path(__file__).resolve().parent.parent
DELIVERER = "test-deliverer"


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def desk(app):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True  # the receivers run on 127.0.0.1
    app.config["WEBHOOK_TIMEOUT"] = 2
    ann = make.user("ann")
    board = make.board(ann, "simple", key="OPS")
    return board, ann


def add_webhook(board, actor, url, types=None) -> Webhook:
    webhook = create_webhook(board, actor, name="Ops dashboard", url=url, types=types)
    db.session.commit()
    return webhook


def log_of(webhook) -> list[tuple]:
    lines = db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.webhook_id == webhook.id).order_by(WebhookDelivery.id)).all()
    return [(line.seq, line.event_type, line.attempt, line.status) for line in lines]


def test_each_event_reaches_the_receiver_signed_in_order_as_the_api_gives_it(desk, receiver):
    board, ann = desk
    make.card(board, ann, "Before the webhook")  # not sent: the webhook starts from now
    webhook = add_webhook(board, ann, receiver.url)
    card = make.card(board, ann, "Certificate expires Friday")
    move_card(card, ann, column=make.column(board, "Doing"))
    block_card(card, ann, "Waiting for the CA")
    db.session.commit()

    assert deliver_due(DELIVERER) == 3
    events = events_since(board, board.last_seq - 3)
    assert receiver.seqs() == [e.seq for e in events] == [board.last_seq - 2,
                                                           board.last_seq - 1, board.last_seq]
    assert [r.json for r in receiver.received] == events_as_dicts(board, events)
    for request, event in zip(receiver.received, events, strict=True):
        headers = request.headers
        assert headers["X-Swarmboard-Event"] == event.type
        assert headers["X-Swarmboard-Delivery"] == f"{webhook.id}-{event.seq}"
        signed = headers["X-Swarmboard-Timestamp"].encode() + b"." + request.body
        expected = hmac.new(webhook.secret.encode(), signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Swarmboard-Signature-256"], "sha256=" + expected)
    assert db.session.get(Webhook, webhook.id).cursor == board.last_seq
    assert deliver_due(DELIVERER) == 0  # nothing is sent twice


def test_only_the_chosen_kinds_of_event_are_sent(desk, receiver):
    board, ann = desk
    webhook = add_webhook(board, ann, receiver.url, types=["swarm.*", "card.blocked"])
    card = make.card(board, ann, "Backups fail nightly")
    block_card(card, ann, "Vendor")
    unblock_card(card, ann)
    swarms.start_swarm(card, ann, type="backlog", help_needed="Why do backups fail?",
                       tried="Reran them", skills="backup")
    db.session.commit()

    deliver_due(DELIVERER)
    assert [r.json["type"] for r in receiver.received] == ["card.blocked", "swarm.started"]
    assert db.session.get(Webhook, webhook.id).cursor == board.last_seq  # the rest passed by


def test_a_receiver_that_was_down_gets_everything_in_order_once_back(desk, receiver):
    board, ann = desk
    webhook = add_webhook(board, ann, receiver.url)
    for title in ("Disk 91% on db-2", "Disk 95% on db-2", "Disk 99% on db-2"):
        create_card(board, ann, title=title)
    db.session.commit()
    receiver.status = 500
    t0 = utcnow()

    deliver_due(DELIVERER, now=t0)
    webhook = db.session.get(Webhook, webhook.id)
    assert (webhook.status, webhook.failures, webhook.cursor) == ("failing", 1, board.last_seq - 3)
    assert webhook.next_attempt_at == t0 + timedelta(seconds=10)
    assert deliver_due(DELIVERER, now=t0 + timedelta(seconds=5)) == 0  # waits its turn
    deliver_due(DELIVERER, now=t0 + timedelta(seconds=11))  # still down: waits longer
    assert db.session.get(Webhook, webhook.id).next_attempt_at == t0 + timedelta(seconds=41)

    receiver.status = 200
    deliver_due(DELIVERER, now=t0 + timedelta(seconds=41))
    first = board.last_seq - 2
    assert receiver.seqs() == [first, first + 1, first + 2]
    assert log_of(webhook) == [(first, "card.created", 1, 500), (first, "card.created", 2, 500),
                               (first, "card.created", 3, 200), (first + 1, "card.created", 1, 200),
                               (first + 2, "card.created", 1, 200)]
    assert db.session.get(Webhook, webhook.id).status == "ok"


def test_a_receiver_that_hangs_is_given_up_on_in_time_and_the_failure_logged(desk, receiver):
    board, ann = desk
    current_app.config["WEBHOOK_TIMEOUT"] = 0.3
    webhook = add_webhook(board, ann, receiver.url)
    make.card(board, ann, "Slow receiver")
    receiver.delay = 2

    deliver_due(DELIVERER)
    line = db.session.scalars(select(WebhookDelivery)).one()
    assert line.status is None and "timed out" in line.error
    assert db.session.get(Webhook, webhook.id).status == "failing"


def test_a_webhook_failing_for_a_day_pauses_and_resumes_from_where_it_stopped(desk, receiver):
    board, ann = desk
    webhook = add_webhook(board, ann, receiver.url)
    make.card(board, ann, "Renew the TLS certificate")
    receiver.status = 503
    t0 = utcnow()
    deliver_due(DELIVERER, now=t0)
    deliver_due(DELIVERER, now=t0 + timedelta(days=1, seconds=1))

    webhook = db.session.get(Webhook, webhook.id)
    assert webhook.status == "paused"
    assert "failing for a day" in webhook.paused_reason and "HTTP 503" in webhook.paused_reason
    make.card(board, ann, "Recorded while paused")
    receiver.status = 200
    assert deliver_due(DELIVERER, now=t0 + timedelta(days=2)) == 0  # paused: nothing goes out

    resume_webhook(board, ann, webhook.id)
    db.session.commit()
    deliver_due(DELIVERER)
    assert receiver.seqs() == [board.last_seq - 1, board.last_seq]


@pytest.mark.parametrize("url, sentence", [
    ("ftp://example.com/hook", "is not a web address"),
    ("https:///no-host", "is not a web address"),
    ("https://user:pw@example.com/hook", "no user name or password"),
    ("https://example.com:http/hook", "bad port"),
    ("https://example.com/" + "x" * 2001, "at most 2000"),
    ("http://127.0.0.1:9/hook", "internal address"),
    ("http://10.1.2.3/hook", "internal address"),
    ("http://[::1]/hook", "internal address"),
])
def test_a_bad_or_internal_url_is_refused_with_a_sentence(desk, url, sentence):
    board, ann = desk
    current_app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    with pytest.raises(Invalid, match=sentence):
        create_webhook(board, ann, name="Hook", url=url)
    db.session.rollback()
    assert db.session.scalars(select(Webhook)).all() == []


def test_unknown_event_types_are_refused(desk, receiver):
    board, ann = desk
    with pytest.raises(Invalid, match="'cards.moved' is not an event type"):
        create_webhook(board, ann, name="Hook", url=receiver.url, types=["cards.moved"])


def test_only_owners_manage_webhooks(desk, receiver):
    board, ann = desk
    bob, eve = make.user("bob"), make.user("eve")
    make.member(board, bob)
    with pytest.raises(Forbidden):
        create_webhook(board, bob, name="Mine", url=receiver.url)
    with pytest.raises(NotFound):
        create_webhook(board, eve, name="Mine", url=receiver.url)
    db.session.rollback()
    assert db.session.scalars(select(Webhook)).all() == []


def test_the_settings_page_adds_a_webhook_shows_its_secret_once_and_sends_a_test(
        desk, receiver, client, login):
    board, ann = desk
    login("ann")
    page = client.post(f"/boards/{board.key}/webhooks", headers={"HX-Request": "true"},
                       data={"name": "Ops dashboard", "url": receiver.url, "types": ["card.*"]})
    assert page.status_code == 200
    webhook = db.session.scalars(select(Webhook)).one()
    html = page.get_data(as_text=True)
    assert webhook.secret in html and "shown only once" in html
    assert webhook.secret not in client.get(f"/boards/{board.key}/settings").get_data(as_text=True)

    tested = client.post(f"/boards/{board.key}/webhooks/{webhook.id}/test",
                         headers={"HX-Request": "true"})
    assert "Test sent to &#39;Ops dashboard&#39;: HTTP 200" in tested.get_data(as_text=True)
    assert [r.json["type"] for r in receiver.received] == ["ping"]
    assert log_of(webhook) == [(None, "ping", 1, 200)]

    refused = client.post(f"/boards/{board.key}/webhooks", headers={"HX-Request": "true"},
                          data={"name": "Bad", "url": "gopher://example.com"})
    assert refused.status_code == 422
    assert "is not a web address" in refused.get_data(as_text=True)


def test_the_server_delivers_by_itself_right_after_a_commit(desk, receiver):
    board, ann = desk
    add_webhook(board, ann, receiver.url)
    deliverer = start_in_process(current_app._get_current_object())
    try:
        make.card(board, ann, "Pushed at once")
        received = receiver.wait_for(1)
    finally:
        deliverer.stop.set()
        deliverer.wake.set()
    assert [r.json["type"] for r in received] == ["card.created"]


def test_killing_the_deliverer_mid_batch_loses_nothing(desk, receiver, database_url, tmp_path):
    board, ann = desk
    webhook = add_webhook(board, ann, receiver.url)
    for n in range(30):
        create_card(board, ann, title=f"Alert {n}")
    db.session.commit()
    wanted = [e.seq for e in events_since(board, webhook.cursor)]
    db.session.remove()
    receiver.delay = 0.05
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test",
           "WEBHOOKS_ALLOW_PRIVATE": "1"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "deliver", "--poll", "0.2"]

    with (tmp_path / "deliverer.log").open("w") as log:
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        receiver.wait_for(10)
        first.send_signal(signal.SIGKILL)  # mid-batch, with no chance to tidy up
        first.wait()
        assert 10 <= len(receiver.received) < 30, (tmp_path / "deliverer.log").read_text()

        # The dead deliverer's lease runs out; a new one goes on from the cursor.
        db.session.execute(Webhook.__table__.update().values(lease_until=utcnow()))
        db.session.commit()
        second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while sorted(set(receiver.seqs())) != wanted and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)

    seqs = receiver.seqs()
    assert sorted(set(seqs)) == wanted, (tmp_path / "deliverer.log").read_text()
    assert seqs == sorted(seqs)  # in order
    repeated = [seq for seq in set(seqs) if seqs.count(seq) > 1]
    assert len(repeated) <= 1  # at most the one in flight when it died, with the same id
    ids = [r.headers["X-Swarmboard-Delivery"] for r in receiver.received]
    assert len(set(ids)) == len(wanted)


def test_two_deliverers_at_once_send_each_event_once(desk, receiver):
    board, ann = desk
    add_webhook(board, ann, receiver.url)
    for n in range(8):
        create_card(board, ann, title=f"Alert {n}")
    db.session.commit()
    receiver.delay = 0.05
    app = current_app._get_current_object()

    def deliver(name):
        with app.app_context():
            deliver_due(name)
            db.session.remove()

    workers = [threading.Thread(target=deliver, args=(name,)) for name in ("one", "two")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert receiver.seqs() == list(range(board.last_seq - 7, board.last_seq + 1))


def test_chat_targets_get_a_message_their_incoming_webhooks_accept_with_links_back(desk):
    board, ann = desk
    current_app.config["PUBLIC_URL"] = "https://swarmboard.example.com"
    with Receiver() as slack, Receiver() as mattermost, Receiver() as teams:
        for fmt, receiver in (("slack", slack), ("mattermost", mattermost), ("teams", teams)):
            create_webhook(board, ann, name=fmt, url=receiver.url, format=fmt,
                           types=["card.moved", "swarm.started"])
        db.session.commit()
        card = make.card(board, ann, "VPN drops every hour")
        move_card(card, ann, column=make.column(board, "Doing"))
        swarm = swarms.start_swarm(card, ann, type="backlog", help_needed="Find the cause",
                                   tried="Restarted the concentrator", skills="vpn")
        db.session.commit()
        deliver_due(DELIVERER)

        card_url = f"https://swarmboard.example.com/cards/{card.key}"
        room_url = f"https://swarmboard.example.com/swarms/{swarm.id}"
        moved, started = (r.json for r in slack.received)
        assert moved["text"].startswith(f"ann moved {card.key} “VPN drops every hour” from To "
                                        "do to Doing")
        assert f"<{card_url}|Open {card.key}>" in moved["text"]
        assert moved["blocks"][0]["text"]["type"] == "mrkdwn"
        assert f"<{room_url}|Open the swarm room>" in started["text"]

        moved, started = (r.json for r in mattermost.received)
        assert f"[Open {card.key}]({card_url})" in moved["text"]
        assert started["attachments"][0]["color"] == "#c62828"
        assert "started a backlog swarm" in started["attachments"][0]["fallback"]

        moved, started = (r.json for r in teams.received)
        assert (moved["@type"], moved["@context"]) == ("MessageCard",
                                                       "https://schema.org/extensions")
        assert moved["potentialAction"] == [{"@type": "OpenUri", "name": f"Open {card.key}",
                                             "targets": [{"os": "default", "uri": card_url}]}]
        assert [a["targets"][0]["uri"] for a in started["potentialAction"]] == [card_url,
                                                                               room_url]


def test_an_unknown_chat_format_is_refused(desk, receiver):
    board, ann = desk
    with pytest.raises(Invalid, match="Format must be one of"):
        create_webhook(board, ann, name="Chat", url=receiver.url, format="irc")


# --- DNS rebinding: the address checked is the address connected to ----------------------------


def test_a_name_that_turns_internal_after_the_check_is_not_followed(desk, receiver,
                                                                     monkeypatch):
    """The check sees a public address; a second lookup would give 127.0.0.1 (where the
    receiver listens). The delivery goes to the checked address, so the receiver hears nothing."""
    from app.webhooks import services
    from app.webhooks.delivery import Target, post

    real = services.socket.getaddrinfo
    current_app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    current_app.config["WEBHOOK_TIMEOUT"] = 1
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])

    def public_once(host, *args, **kwargs):  # what a rebinding name server answers first
        if host == "localhost":
            return [(2, 1, 6, "", ("8.8.8.8", 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(services.socket, "getaddrinfo", public_once)
    target = Target(id=1, url=f"http://localhost:{port}/hook", secret="s", event_types=[],
                    format="json")
    answer = post(target, "card.created", "d-1", {"seq": 1})
    assert answer.status is None and answer.error  # 8.8.8.8 is not reachable from here
    assert receiver.received == []


def test_a_delivery_connects_to_the_checked_address_under_the_urls_name(receiver):
    """Pinned: the socket goes to the address given, the request still names the URL's host."""
    from app.webhooks.delivery import _opener_for

    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    request = urllib.request.Request(f"http://hooks.swarmboard.invalid:{port}/hook",
                                     data=b"{}", method="POST")
    with _opener_for(["127.0.0.1"]).open(request, timeout=5) as answer:
        assert answer.status == 200
    (received,) = receiver.received
    assert received.headers["Host"] == f"hooks.swarmboard.invalid:{port}"
