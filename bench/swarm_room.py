"""Swarm room fan-out under `make serve`: from posting a message (an HTTP request, as the
room's composer sends it) to the `swarm_event` reaching the last of the room's 20 members.

Target: p99 under 25 ms. Same machinery as bench/live.py: gunicorn with one gevent-websocket
worker on SQLite; the members are Socket.IO clients (one person each, by API token) in a
separate process, reporting per sequence number when the last of them received it: Node
socket.io-client (bench/listener/listen.js, all 20 in one process), or python-socketio on gevent
(PER_PROCESS a process) where Node is not installed or BENCH_LISTENERS=python.
"""

import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench import Figure, migrated_app
from bench.live import ROOT, Audience, Server, latencies, latency_figure, spread

MEMBERS = 20
PER_PROCESS = 10  # Python members; the Node ones all share one process
SAMPLES = 200
TARGET_P99 = 0.025
PASSWORD = "bench-password"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
LISTENER = ("from gevent import monkey; monkey.patch_all(); "
            "from bench.swarm_room import listen; listen()")


def listen() -> None:
    """In a child process, gevent-patched: one client per token joins the swarm's room; prints
    `ready <seq>`, then `<seq> <ns>` once the last of them has received each swarm_event."""
    import gevent
    import socketio

    url, swarm_id, tokens = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    logging.getLogger("engineio.client").disabled = True
    parent = os.getppid()
    arrivals: dict[int, list[int]] = {}

    def on_swarm_event(message):
        now = time.time_ns()
        seen = arrivals.setdefault(message["seq"], [0, 0])
        seen[0] += 1
        seen[1] = max(seen[1], now)
        if seen[0] >= len(tokens):
            print(message["seq"], seen[1], flush=True)
            del arrivals[message["seq"]]

    def join(token: str):
        # As in bench/live.py: a browser checks UTF-8 natively; the Python client would not.
        client = socketio.Client(
            reconnection=False, websocket_extra_options={"skip_utf8_validation": True}
        )
        client.on("swarm_event", on_swarm_event)
        client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
        ack = client.call("swarm_join", {"swarm": swarm_id}, timeout=60)
        if not ack.get("ok"):
            raise RuntimeError(f"swarm_join refused: {ack}")
        return ack["seq"]

    joins = [gevent.spawn(join, token) for token in tokens]
    gevent.joinall(joins, raise_error=True)
    print("ready", max(job.value for job in joins), flush=True)
    while os.getppid() == parent:
        gevent.sleep(1)


class Members(Audience):
    """The swarm's members, each a socket of their own, in a few listener processes."""

    def __init__(self, url: str, swarm_id: int, tokens: list[str]):
        super().__init__(url, ",".join(tokens), str(swarm_id), room="swarm")
        if self.node:  # socket i uses token i: one person each
            self.per_process = len(tokens)
            try:
                self.add(len(tokens))
            except RuntimeError:
                self.close()  # the caller never gets us to close
                raise
            return
        self.per_process = PER_PROCESS
        started = []
        for first in range(0, len(tokens), PER_PROCESS):
            chunk = tokens[first:first + PER_PROCESS]
            started.append(subprocess.Popen(
                [sys.executable, "-c", LISTENER, url, str(swarm_id), ",".join(chunk)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            ))
            self.clients += len(chunk)
        self.processes = started
        for process in started:
            if not process.stdout.readline().startswith("ready"):
                raise RuntimeError(f"a member process failed to join (exit {process.poll()})")
            threading.Thread(target=self._read, args=(process,), daemon=True).start()


def build_room(database_url: str) -> dict:
    """Board ROOM with one card and an open swarm on it that 20 people are in; an API token
    for each of them."""
    from app.accounts.services import create_token, create_user
    from app.boards.services import create_board, set_member
    from app.cards.services import create_card
    from app.extensions import db
    from app.swarms.services import join_swarm, start_swarm

    app = migrated_app(database_url)
    with app.app_context():
        owner = create_user("owner", PASSWORD, display_name="Card Owner")
        board = create_board(owner, name="Swarm bench", key="ROOM", template="simple")
        card = create_card(board, owner, title="Mail queue stuck on relay-2")
        swarm = start_swarm(card, owner, type="backlog", help_needed="Mails pile up",
                            skills="postfix, dns")
        people = [owner]
        for number in range(1, MEMBERS):
            person = create_user(f"expert{number:02d}", PASSWORD,
                                 display_name=f"Expert {number:02d}")
            set_member(board, owner, person.username, "member")
            join_swarm(swarm, person)
            people.append(person)
        setup = {"swarm": swarm.id, "tokens": [create_token(p, "bench") for p in people]}
        db.session.commit()
        db.engine.dispose()
    return setup


class Poster:
    """The card's owner, logged in, sending messages from the room's composer."""

    def __init__(self, url: str, swarm_id: int):
        self.url = f"{url}/swarms/{swarm_id}/messages"
        self.session = requests.Session()
        page = self.session.get(f"{url}/login", timeout=10).text
        self.session.headers.update({"X-CSRFToken": CSRF_META.search(page).group(1),
                                     "HX-Request": "true"})
        self.session.post(f"{url}/login", data={"username": "owner", "password": PASSWORD},
                          timeout=10).raise_for_status()
        self.sent = 0
        self.answered: list[float] = []  # seconds until the sender's own answer

    def __call__(self, _seq: int) -> None:
        self.sent += 1
        started = time.perf_counter()
        response = self.session.post(
            self.url, data={"body": f"Message {self.sent}: the **deferred** queue is at "
                                    f"{4000 + self.sent} and `relay-2` still fails MX lookups."},
            timeout=10)
        self.answered.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"posting answered {response.status_code}: {response.text[:200]}")


def run() -> list[Figure]:
    name = f"Swarm message to {MEMBERS} members (make serve, SQLite)"
    with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
        folder = Path(folder)
        url = f"sqlite:///{folder / 'swarm.db'}"
        setup = build_room(url)
        server = Server("wsgi:app", folder, DATABASE_URL=url)
        members = None
        try:
            members = Members(server.url, setup["swarm"], setup["tokens"])
            poster = Poster(server.url, setup["swarm"])
            latest = requests.get(
                f"{server.url}/api/v1/boards/ROOM/events?since=0",
                headers={"Authorization": f"Bearer {setup['tokens'][0]}"}, timeout=10,
            ).json()["last_seq"]
            seconds, lost = latencies(poster, members, latest + 1, SAMPLES)
        except RuntimeError as error:
            return [Figure(name, f"p99 < {TARGET_P99 * 1000:.0f} ms", "not measured", str(error))]
        finally:
            if members is not None:
                members.close()
            server.stop()
    figure = latency_figure(name, spread(seconds), len(seconds), lost, p99=TARGET_P99,
                            listeners=members.kind())
    answered = spread(poster.answered[5:])
    figure.detail += f"; the sender's own answer: p50 {answered['p50'] * 1000:.1f} ms"
    return [figure]


if __name__ == "__main__":
    from bench import print_table

    print_table(run())
