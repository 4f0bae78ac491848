"""Live board figures, served as `make serve` serves (gunicorn, one gevent-websocket worker).

- Move-to-screen latency: from sending `POST /api/v1/cards/<CARD>/move` to the slowest listener
  receiving its `board_event`, with 1, 50 and 200 listeners, on one process (SQLite) and across
  two processes through Redis (PostgreSQL; listeners on A, moves posted to B).
- The floor: a bare Flask-SocketIO server in the same mode broadcasting the same payload.
- Sustained moves per second with 50 listeners; memory per idle client at 500 clients; and the
  most clients one process held while still meeting the latency target.

Listeners are real Socket.IO clients (websocket transport) in separate processes, many per
process: Node socket.io-client (bench/listener/listen.js, as in the reference figures the latency
targets came from) when `node` is on PATH and `npm ci --prefix bench/listener` has run (`make
bench` does), python-socketio on gevent otherwise; BENCH_LISTENERS=python forces the latter (for
comparison), BENCH_LISTENERS=node insists on the former. The Python ones spend about six times
the CPU per message (websocket frames, JSON: 86 ms per broadcast to 200 clients, against 14 ms)
on the cores the server needs, which raises the tail. Each listener process reports, per
sequence number, the wall clock (ns since the epoch, as time.time_ns reads it; shared by every
process on the machine) at which the last of its clients received the event. The figures' detail
says which listeners measured them.
"""

import contextlib
import itertools
import json
import logging
import os
import queue
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench import PG_ADMIN_URL, Figure, migrated_app, percentile_nearest_rank

ROOT = Path(__file__).resolve().parent.parent
WORKER = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
KEY = "LIVE"
PASSWORD = "bench-password"
CARDS = 40
MOVERS = 4  # client threads posting moves in the throughput figure, a card each
CLIENTS_PER_PROCESS = 25  # Python listeners: fewer per process trims the tail they add
CROWD_PER_PROCESS = 100  # for the 500+ client figures, to bound the number of processes
# Node listeners: 200 per process, so one process at 200 listeners. On 2 cores (busy with other
# work at the time), the floor at 200 measured p50 21-22 ms with 200 per process in three runs,
# against 22-40 with 100 (three runs) and 32-42 with 50 (two); p99 (noisy: 31-76 / 40-79 / 48-75)
# was lower with 200 than with 100 in two runs of three. One process spends less CPU per broadcast
# (14 ms for 200 clients, against 19 ms as two) and, being one thread, never takes both cores from
# the server while it fans out.
NODE_PER_PROCESS = 200
NODE_LISTENER = ROOT / "bench" / "listener" / "listen.js"
NODE_CLIENT = ROOT / "bench" / "listener" / "node_modules" / "socket.io-client"
# Moves timed per listener count (after 5 warm-up moves). At 200, where the targets are, 600: a
# p99 of 200 samples is their second-worst, and swung from 13 to 18 ms between runs here.
SAMPLES = {1: 60, 50: 100, 200: 600}
PROBE_SAMPLES = 100
PROBES = (500, 1000)  # client counts tried for "the most one process holds"
PROBE_BUDGET = 90.0  # seconds; no larger probe starts after this
THROUGHPUT_SECONDS = 5.0
TARGET_P50, TARGET_P99, TARGET_REDIS_P99 = 0.020, 0.030, 0.045
TARGET_RATIO, TARGET_MOVES, TARGET_KIB = 1.5, 200, 100
LISTENER = "from gevent import monkey; monkey.patch_all(); from bench.live import listen; listen()"


# --- a listener process ---------------------------------------------------------------------


def listen() -> None:
    """Run in a child process, gevent-patched: `count` clients join the board; prints
    `ready <seq>`, then `<seq> <ns>` once the last of them has received each board_event."""
    import gevent
    import socketio

    url, token, board, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    logging.getLogger("engineio.client").disabled = True  # "packet queue is empty" when killed
    parent = os.getppid()
    arrivals: dict[int, list[int]] = {}
    expected = [count]

    def on_board_event(message):
        now = time.time_ns()
        seen = arrivals.setdefault(message["seq"], [0, 0])
        seen[0] += 1
        seen[1] = max(seen[1], now)
        if seen[0] >= expected[0]:
            print(message["seq"], seen[1], flush=True)
            del arrivals[message["seq"]]

    def on_disconnect(*_reason):
        expected[0] -= 1  # a dropped client no longer counts; the bench reports the drop
        print("dropped", 0, flush=True)

    def join():
        # websocket-client checks UTF-8 in pure Python (~1 ms per 10 KiB): a browser does it
        # natively, so it is skipped here rather than counted as the server's latency.
        client = socketio.Client(
            reconnection=False, websocket_extra_options={"skip_utf8_validation": True}
        )
        client.on("board_event", on_board_event)
        client.on("disconnect", on_disconnect)
        client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
        ack = client.call("join", {"board": board}, timeout=120)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")
        return ack["seq"]

    joins = [gevent.spawn(join) for _ in range(count)]
    gevent.joinall(joins, raise_error=True)
    print("ready", max(job.value for job in joins), flush=True)
    while os.getppid() == parent:  # the bench kills us; an orphan leaves on its own
        gevent.sleep(1)


def node_listeners() -> str | None:
    """The `node` executable if the listeners are to be Node socket.io-client processes."""
    choice = os.environ.get("BENCH_LISTENERS", "").strip().lower()
    if choice not in ("", "node", "python"):
        raise RuntimeError(f"BENCH_LISTENERS is node or python, not {choice!r}")
    node = shutil.which("node") if choice != "python" else None
    if node and NODE_CLIENT.is_dir():
        return node
    if choice == "node":
        raise RuntimeError("BENCH_LISTENERS=node needs node on PATH and "
                           "`npm ci --prefix bench/listener`")
    return None


def listener_kind(node: str | None, per_process: int) -> str:
    """For the figures' detail: which clients listened, and how many per process."""
    if node:
        with contextlib.suppress(OSError, ValueError, KeyError):
            version = json.loads((NODE_CLIENT / "package.json").read_text())["version"]
            return f"listeners: Node socket.io-client {version}, up to {per_process} per process"
        return f"listeners: Node socket.io-client, up to {per_process} per process"
    from importlib.metadata import version

    return (f"listeners: python-socketio {version('python-socketio')} on gevent, "
            f"up to {per_process} per process")


class Audience:
    """Listener processes on one board of one server, and the reports they send back.
    `room="swarm"` makes `board` a swarm id whose swarm_events are listened to instead (Node
    listeners only; `token` may then list one token per client, comma-separated)."""

    def __init__(self, url: str, token: str, board: str = KEY, room: str = "board"):
        self.args = [url, token, board]
        self.room = room
        self.node = node_listeners()
        self.per_process = NODE_PER_PROCESS if self.node else CLIENTS_PER_PROCESS
        self.processes: list[subprocess.Popen] = []
        self.clients = self.dropped = 0
        self._reports: queue.Queue = queue.Queue()

    def kind(self, per_process: int | None = None) -> str:
        return listener_kind(self.node, per_process or self.per_process)

    def command(self, count: int) -> list[str]:
        if self.node:
            return [self.node, str(NODE_LISTENER), *self.args, str(count), self.room]
        if self.room != "board":
            raise RuntimeError(f"the Python listener has no {self.room!r} room")
        return [sys.executable, "-c", LISTENER, *self.args, str(count)]

    def add(self, clients: int, per_process: int | None = None) -> None:
        per_process = per_process or self.per_process
        started = []
        while clients > 0:
            count = min(clients, per_process)
            # stdin: a pipe nobody writes to; a Node listener leaves when it closes.
            process = subprocess.Popen(
                self.command(count), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True,
            )
            started.append(process)
            clients -= count
            self.clients += count
        self.processes += started  # close() ends them, also when one of them failed
        for process in started:
            line = process.stdout.readline()  # "ready <seq>", or "" if it died
            if not line.startswith("ready"):
                raise RuntimeError(f"a listener process failed to join (exit {process.poll()})")
            threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            seq, at = line.split()
            if seq == "dropped":
                self.dropped += 1
                continue
            self._reports.put((process.pid, int(seq), int(at)))

    def last_arrival(self, seq: int, timeout: float = 5.0) -> int | None:
        """Wall-clock ns at which the last client received event `seq` (None: some never did)."""
        pending: dict[int, int] = {}
        deadline = time.monotonic() + timeout
        while len(pending) < len(self.processes):
            try:
                pid, reported, at = self._reports.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if reported == seq:
                pending[pid] = at
        return max(pending.values())

    def delivered(self, seqs: range, timeout: float = 10.0) -> int:
        """How many of `seqs` every client received."""
        counts: dict[int, int] = {}
        deadline = time.monotonic() + timeout
        while sum(c == len(self.processes) for c in counts.values()) < len(seqs):
            try:
                _pid, seq, _at = self._reports.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if seq in seqs:
                counts[seq] = counts.get(seq, 0) + 1
        return sum(c == len(self.processes) for c in counts.values())

    def close(self) -> None:
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait(timeout=10)
            process.stdin.close()
            process.stdout.close()
        self.processes, self.clients = [], 0


# --- servers --------------------------------------------------------------------------------


class Server:
    """gunicorn with one gevent-websocket worker, as `make serve` runs it."""

    def __init__(self, target: str, folder: Path, port: int | None = None, **env: str):
        if port is None:  # a given port: a server started again where its clients knew it
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = folder / f"gunicorn-{port}.log"
        environment = {**os.environ, "SOCKETIO_ASYNC_MODE": "gevent", "SECRET_KEY": "bench", **env}
        if "REDIS_URL" not in env:
            environment.pop("REDIS_URL", None)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--worker-class", WORKER, "--workers", "1",
                 "--worker-connections", "4000", "--bind", f"127.0.0.1:{port}", target],
                cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            # A first answer slower than 2 s (a busy machine) is a wait too, not a failure.
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                if requests.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()[-2000:]}")

    def worker_pid(self) -> int:
        """The gunicorn worker (the process holding the connections)."""
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError, ValueError):
                if entry.name.isdigit() and int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                ) == self.process.pid:
                    return int(entry.name)
        raise RuntimeError("no gunicorn worker found")

    def worker_rss_kib(self) -> int:
        """Resident memory of the worker."""
        status = (Path("/proc") / str(self.worker_pid()) / "status").read_text()
        return int(status.split("VmRSS:")[1].split()[0])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def floor_app():
    """The floor: bare Flask-SocketIO, same mode, joining and broadcasting only
    (`gunicorn 'bench.live:floor_app()'`)."""
    from flask import Flask, request
    from flask_socketio import SocketIO, join_room

    app = Flask(__name__)
    sockets = SocketIO(app, async_mode="gevent")

    @sockets.on("join")
    def join(_data=None):
        join_room("board")
        return {"ok": True, "seq": 0}

    @app.post("/broadcast")
    def broadcast():
        sockets.emit("board_event", request.get_json(), to="board")
        return {"ok": True}

    @app.get("/login")
    def ready():
        return "ready"

    return app


# --- the board and its moves ----------------------------------------------------------------


def build_board(database_url: str) -> dict:
    """A restoration board with its limits lifted, CARDS cards, and MOVERS shuttle cards in
    Reported; tokens for its owner (who moves) and a viewer (whom every listener is)."""
    from app.accounts.services import create_token, create_user
    from app.boards.services import (
        active_columns,
        board_lanes,
        create_board,
        set_member,
        update_column,
        update_lane,
    )
    from app.cards.services import create_card
    from app.extensions import db

    app = migrated_app(database_url)
    rng = random.Random(42)
    with app.app_context():
        owner = create_user("owner", PASSWORD, display_name="Board Owner")
        watcher = create_user("watcher", PASSWORD, display_name="Team Room TV")
        board = create_board(owner, name="Live board", key=KEY, template="restoration")
        set_member(board, owner, watcher.username, "viewer")
        columns, lanes = active_columns(board), board_lanes(board)
        for column in columns:
            update_column(board, owner, column, wip_limit=None)
        for lane in lanes:
            update_lane(board, owner, lane, wip_limit=None)
        for number in range(CARDS):
            create_card(board, owner, title=f"Incident {number}", column=rng.choice(columns[:-1]),
                        lane=rng.choice(lanes))
        shuttles = [create_card(board, owner, title=f"Shuttle {n}") for n in range(MOVERS)]
        board_setup = {
            "owner": create_token(owner, "bench"),
            "watcher": create_token(watcher, "bench"),
            "cards": [card.key for card in shuttles],
        }
        db.session.commit()
        db.engine.dispose()
    return board_setup


class Mover:
    """Shuttles one card between Reported and Acknowledged over the HTTP API."""

    COLUMNS = ("Acknowledged", "Reported")

    def __init__(self, url: str, token: str, card: str):
        self.url, self.card, self.moves = url, card, 0
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self) -> None:
        column = self.COLUMNS[self.moves % 2]
        self.moves += 1
        response = self.session.post(
            f"{self.url}/api/v1/cards/{self.card}/move", json={"column": column}, timeout=10
        )
        if response.status_code != 200:
            raise RuntimeError(f"move answered {response.status_code}: {response.text[:200]}")

    def latest_seq(self) -> int:
        response = self.session.get(f"{self.url}/api/v1/boards/{KEY}/events?since=0", timeout=10)
        return response.json()["last_seq"]


def capture_push(url: str, token: str, mover: Mover) -> dict:
    """One real push of a move, to give the floor the same payload."""
    import socketio

    arrived, messages = threading.Event(), []
    client = socketio.Client(reconnection=False)
    client.on("board_event", lambda message: (messages.append(message), arrived.set()))
    client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    try:
        client.call("join", {"board": KEY}, timeout=10)
        mover()
        if not arrived.wait(10):
            raise RuntimeError("no board_event arrived for the captured move")
    finally:
        client.disconnect()
    return messages[0]


# --- measuring ------------------------------------------------------------------------------


def latencies(trigger, audience: Audience, first_seq: int, samples: int) -> tuple[list, int]:
    """Seconds from each trigger to its last arrival, after 5 warm-up triggers; and how many
    events some client never received."""
    seconds, lost = [], 0
    for number in range(5 + samples):
        if lost >= 3:  # each loss costs a 5 s wait: three say enough
            break
        seq = first_seq + number
        sent = time.time_ns()
        trigger(seq)
        arrived = audience.last_arrival(seq)
        if arrived is None:
            lost += 1
        elif number >= 5:
            seconds.append((arrived - sent) / 1e9)
        time.sleep(0.005)
    return seconds, lost


def spread(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return dict.fromkeys(("p50", "p95", "p99", "max"), float("inf"))
    return {f"p{p}": percentile_nearest_rank(seconds, p) for p in (50, 95, 99)} | {
        "max": max(seconds)}


def describe(stats: dict[str, float]) -> str:
    return ", ".join(f"{name} {value * 1000:.1f}" for name, value in stats.items()) + " ms"


def latency_figure(name: str, stats: dict, samples: int, lost: int, *, p50=None, p99=None,
                   listeners: str = ""):
    """`listeners`: which listeners measured it (Audience.kind()), for the detail."""
    goals = []
    if p50:
        goals.append(f"p50 < {p50 * 1000:.0f} ms")
    if p99:
        goals.append(f"p99 < {p99 * 1000:.0f} ms")
    met = None
    if goals:
        met = lost == 0 and (not p50 or stats["p50"] < p50) and (not p99 or stats["p99"] < p99)
    detail = f"{describe(stats)}; n={samples}" + (f", {lost} LOST" if lost else "")
    detail += f"; {listeners}" if listeners else ""
    measured = f"p50 {stats['p50'] * 1000:.1f} / p99 {stats['p99'] * 1000:.1f} ms"
    return Figure(name, ", ".join(goals) or "-", measured, detail, met=met)


def move_series(mover: Mover, audience: Audience, *, between=None) -> dict[int, dict]:
    """Latency with 1, 50, 200 listeners (added as it goes); `between` runs at 50."""
    results = {}
    for size in (1, 50, 200):
        audience.add(size - audience.clients)
        seconds, lost = latencies(lambda _seq: mover(), audience, mover.latest_seq() + 1,
                                  SAMPLES[size])
        results[size] = {"stats": spread(seconds), "n": len(seconds), "lost": lost,
                         "listeners": audience.kind()}
        if size == 50 and between:
            between()
    return results


def sustained(senders: list, audience: Audience, first: int) -> dict:
    """Each sender (a callable counting its sends in `.moves`) sends from its own thread for
    THROUGHPUT_SECONDS; the rate, and how many of the events every listener received."""
    stop, errors = threading.Event(), []

    def keep_sending(sender):
        while not stop.is_set():
            try:
                sender()
            except Exception as error:  # noqa: BLE001  (reported in the figure)
                errors.append(str(error)[:80])

    threads = [threading.Thread(target=keep_sending, args=(s,)) for s in senders]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(THROUGHPUT_SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    done = sum(s.moves for s in senders) - len(errors)
    delivered = audience.delivered(range(first, first + done))
    return {"rate": done / elapsed, "done": done, "elapsed": elapsed, "delivered": delivered,
            "errors": errors}


def throughput(url: str, setup: dict, audience: Audience) -> Figure:
    movers = [Mover(url, setup["owner"], card) for card in setup["cards"]]
    r = sustained(movers, audience, movers[0].latest_seq() + 1)
    errors = r["errors"]
    return Figure(
        f"Sustained moves/s, one process, {audience.clients} listeners (SQLite)",
        f">= {TARGET_MOVES}/s",
        f"{r['rate']:.0f}/s",
        f"{r['done']} moves in {r['elapsed']:.1f} s from {MOVERS} HTTP clients; all listeners "
        f"got {r['delivered']}/{r['done']}"
        + (f"; {len(errors)} errors: {errors[0]}" if errors else "") + f"; {audience.kind()}",
        met=r["rate"] >= TARGET_MOVES and r["delivered"] == r["done"] and not errors,
    )


class Broadcaster:
    """Posts the captured push to the floor server, numbering it from a count it shares with
    the other broadcasters."""

    def __init__(self, url: str, payload: dict, numbers):
        self.url, self.payload, self.numbers, self.moves = url, payload, numbers, 0
        self.session = requests.Session()

    def __call__(self, seq: int | None = None) -> None:
        seq = next(self.numbers) if seq is None else seq
        self.moves += 1
        self.session.post(f"{self.url}/broadcast", json={**self.payload, "seq": seq}, timeout=10)


# --- the scenarios --------------------------------------------------------------------------


def one_process(folder: Path) -> tuple[list[Figure], dict, dict, int]:
    url = f"sqlite:///{folder / 'live.db'}"
    setup = build_board(url)
    server = Server("wsgi:app", folder, DATABASE_URL=url)
    audience = Audience(server.url, setup["watcher"])
    extra = []
    try:
        mover = Mover(server.url, setup["owner"], setup["cards"][0])
        payload = capture_push(server.url, setup["watcher"], mover)
        results = move_series(mover, audience,
                              between=lambda: extra.append(throughput(server.url, setup, audience)))
    finally:
        audience.close()
        server.stop()
    figures = [
        latency_figure(f"Move-to-screen, one process (SQLite), {size} listener(s)",
                       r["stats"], r["n"], r["lost"],
                       p50=TARGET_P50 if size == 200 else None,
                       p99=TARGET_P99 if size == 200 else None,
                       listeners=r["listeners"] if size == 200 else "")
        for size, r in results.items()
    ]
    return figures + extra, results, payload, len(json.dumps(payload))


def floor(folder: Path, payload: dict) -> dict:
    """The floor's latencies at 1, 50 and 200 listeners, and (under "sustained") how many
    broadcasts per second it keeps up with 50 listeners, from as many HTTP clients as the
    moves figure uses."""
    server = Server("bench.live:floor_app()", folder)
    audience = Audience(server.url, "unused")
    broadcast = Broadcaster(server.url, payload, None)
    results = {}
    try:
        for size in (1, 50, 200):
            audience.add(size - audience.clients)
            seconds, lost = latencies(broadcast, audience, 1 + 10_000 * size, SAMPLES[size])
            results[size] = {"stats": spread(seconds), "n": len(seconds), "lost": lost,
                             "listeners": audience.kind()}
            if size == 50:
                first = 5_000_000
                numbers = itertools.count(first)
                senders = [Broadcaster(server.url, payload, numbers) for _ in range(MOVERS)]
                results["sustained"] = sustained(senders, audience, first)
    finally:
        audience.close()
        server.stop()
    return results


def through_redis(folder: Path) -> list[Figure]:
    name = f"swarmboard_live_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    title = "Move-to-screen, two processes via Redis (PostgreSQL)"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001  (any failure to connect means: no PostgreSQL)
        admin.dispose()
        return [Figure(title, "-", "skipped", f"PostgreSQL not reachable: {error}"[:100])]
    database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    servers: list[Server] = []
    audience = None
    try:
        setup = build_board(database_url)
        env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
               "SOCKETIO_CHANNEL": f"swarmboard-bench-{name}"}
        servers = [Server("wsgi:app", folder, **env), Server("wsgi:app", folder, **env)]
        audience = Audience(servers[0].url, setup["watcher"])
        mover = Mover(servers[1].url, setup["owner"], setup["cards"][0])
        results = move_series(mover, audience)
    except Exception as error:  # noqa: BLE001  (e.g. Redis down: reported, the rest still runs)
        return [Figure(title, f"p99 < {TARGET_REDIS_P99 * 1000:.0f} ms", "not measured",
                       str(error).splitlines()[0][:100])]
    finally:
        if audience:
            audience.close()
        for server in servers:
            server.stop()
        forget_presence()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return [
        latency_figure(f"{title}, {size} listener(s)", r["stats"], r["n"], r["lost"],
                       p99=TARGET_REDIS_P99 if size == 200 else None,
                       listeners=r["listeners"] if size == 200 else "")
        for size, r in results.items()
    ]


def forget_presence() -> None:
    """The killed servers leave their viewers in Redis; drop the bench board's."""
    import redis

    with contextlib.suppress(redis.RedisError):
        store = redis.Redis.from_url(REDIS_URL)
        store.delete(*(f"sb:presence{part}:{KEY}" for part in ("", "-count", "-people")))
        for sid_key in store.scan_iter("sb:presence-sid:*"):
            if store.smembers(sid_key) == {KEY.encode()}:
                store.delete(sid_key)


def capacity(folder: Path, latency_at_200: dict) -> list[Figure]:
    """Memory per idle client at 500, then latency at growing sizes until the target is missed."""
    url = f"sqlite:///{folder / 'capacity.db'}"
    setup = build_board(url)
    server = Server("wsgi:app", folder, DATABASE_URL=url)
    crowd = Audience(server.url, setup["watcher"])
    mover = Mover(server.url, setup["owner"], setup["cards"][0])
    held = {200: latency_at_200}
    crowd_per_process = max(CROWD_PER_PROCESS, crowd.per_process)
    try:
        crowd.add(1)
        latencies(lambda _seq: mover(), crowd, mover.latest_seq() + 1, 20)
        before = server.worker_rss_kib()
        crowd.add(499, crowd_per_process)
        time.sleep(2)
        per_client = (server.worker_rss_kib() - before) / 499
        deadline = time.monotonic() + PROBE_BUDGET
        for size in PROBES:
            worst = held[max(held)]
            if time.monotonic() > deadline or worst["lost"] or worst["stats"]["p50"] > 0.2:
                break
            crowd.add(size - crowd.clients, crowd_per_process)
            seconds, lost = latencies(lambda _seq: mover(), crowd, mover.latest_seq() + 1,
                                      PROBE_SAMPLES)
            held[size] = {"stats": spread(seconds), "n": len(seconds), "lost": lost,
                          "dropped": crowd.dropped}
    finally:
        crowd.close()
        server.stop()
    best = max((size for size, r in held.items() if meets_target(r)), default=None)
    probes = "; ".join(
        f"{size}: {describe(r['stats'])}"
        + (f", {r['lost']} events lost" if r["lost"] else "")
        + (f", {r['dropped']} clients dropped" if r.get("dropped") else "")
        for size, r in sorted(held.items())
    )
    return [
        Figure("Server memory per idle connected client (500 clients)", f"< {TARGET_KIB} KiB",
               f"{per_client:.0f} KiB", f"(RSS at 500 - RSS at 1) / 499; worker RSS "
               f"{before // 1024} MiB at 1; all joined to one board", met=per_client < TARGET_KIB),
        Figure("Most clients one process held within p50 < 20 / p99 < 30 ms",
               "-", f"{best if best else 'none'} (of {', '.join(map(str, sorted(held)))} tried)",
               f"{probes}; beyond 200 {crowd.kind(crowd_per_process)}"),
    ]


def meets_target(result: dict) -> bool:
    stats = result["stats"]
    return result["lost"] == 0 and stats["p50"] < TARGET_P50 and stats["p99"] < TARGET_P99


def ratio_figures(ours: dict, floor_results: dict) -> list[Figure]:
    floor_results = dict(floor_results)
    most = floor_results.pop("sustained", None)
    figures = []
    for size, r in floor_results.items():
        figures.append(latency_figure(f"Floor: bare Flask-SocketIO broadcast, {size} listener(s)",
                                      r["stats"], r["n"], r["lost"],
                                      listeners=r["listeners"] if size == 200 else ""))
    ratios = {size: (ours[size]["stats"]["p50"] / floor_results[size]["stats"]["p50"],
                     ours[size]["stats"]["p99"] / floor_results[size]["stats"]["p99"])
              for size in floor_results}
    p50, p99 = ratios[200]
    figures.append(Figure(
        "Our latency / floor, 200 listeners (one process)", f"<= {TARGET_RATIO}x",
        f"p50 {p50:.2f}x / p99 {p99:.2f}x",
        "; ".join(f"{size}: p50 {a:.2f}x, p99 {b:.2f}x" for size, (a, b) in ratios.items()),
        met=p50 <= TARGET_RATIO and p99 <= TARGET_RATIO,
    ))
    if most:
        # What the moves/s target asks of a server that does nothing but broadcast.
        figures.append(Figure(
            "Floor: sustained broadcasts/s, 50 listeners", "-", f"{most['rate']:.0f}/s",
            f"{most['done']} broadcasts in {most['elapsed']:.1f} s from {MOVERS} HTTP clients; "
            f"all listeners got {most['delivered']}/{most['done']}"
            + (f"; {len(most['errors'])} errors: {most['errors'][0]}" if most["errors"] else ""),
        ))
    return figures


def run() -> list[Figure]:
    started = time.perf_counter()

    def step(name: str) -> None:
        elapsed = time.perf_counter() - started
        print(f"  live: {name} ({elapsed:.0f} s)", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="swarmboard-live-") as name:
        folder = Path(name)
        step("one process on SQLite")
        figures, ours, payload, payload_bytes = one_process(folder)
        step("the floor")
        floor_results = floor(folder, payload)
        figures += ratio_figures(ours, floor_results)
        step("two processes through Redis")
        figures += through_redis(folder)
        step("memory and capacity")
        figures += capacity(folder, ours[200])
    for figure in figures:
        if figure.name.startswith("Move-to-screen, one process"):
            figure.detail += f"; payload {payload_bytes / 1024:.1f} KiB"
            break
    return figures
