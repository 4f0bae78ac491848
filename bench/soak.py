"""`make soak`: Swarmboard at scale under load and faults, as `make serve` runs it.

Two gunicorn processes (one gevent-websocket worker each) on PostgreSQL, reached through a TCP
proxy this script holds, and a Redis of their own (started here, so it can be restarted);
200 sockets (Node socket.io-client views that reconnect and catch up as the board page does,
bench/listener/soak.js), half on each process; 10 movers posting moves through the API to both
processes, into a column with a hard WIP limit among others. Each scenario runs SOAK_SECONDS
(180 by default), its fault a third of the way in:

- steady: no fault;
- a process killed with SIGKILL (gunicorn and its worker), started again 3 s later;
- Redis stopped and started again 3 s later;
- PostgreSQL unreachable for 10 s (the proxy cuts every connection and refuses new ones);
- one listener process stopped (SIGSTOP) for 30 s: its 20 sockets read nothing meanwhile.

Printed per scenario: moves accepted / refused (WIP, version) / answered 503 (and the slowest
such answer) / failed; events lost by any view after catching up (goal 0) and received again
(skipped, never applied twice); the hard WIP limit replayed from the event log (never passed);
the workers' memory before and after. Figures, not assertions.
"""

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench import Figure, migrated_app, print_table, throwaway_postgres
from bench.live import Server
from tests.proxy import Proxy

ROOT = Path(__file__).resolve().parent.parent
SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS") or 180)
KEY, PASSWORD = "SOAK", "soak-password"
LISTENERS, PER_PROCESS, MOVERS, CARDS = 200, 20, 10, 60
HARD_COLUMN, HARD_LIMIT = "Investigating", 5
OUTAGE_SECONDS, STALL_SECONDS, DOWN_SECONDS = 10, 30, 3
NODE = shutil.which("node")
LISTENER = ROOT / "bench" / "listener" / "soak.js"


class Redis:
    """A redis-server of the soak's own on a free port, keeping nothing on disk."""

    def __init__(self, folder: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder, self.process = folder, None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


def build(database_url: str) -> dict:
    """Board SOAK (restoration): limits lifted but one hard limit; CARDS cards; a token per
    mover and one for the listeners (a viewer)."""
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
    rng = random.Random(7)
    with app.app_context():
        owner = create_user("owner", PASSWORD)
        board = create_board(owner, name="Soak", key=KEY, template="restoration")
        columns = active_columns(board)
        for column in columns:
            hard = column.name == HARD_COLUMN
            update_column(board, owner, column, wip_limit=HARD_LIMIT if hard else None,
                          wip_policy="hard" if hard else "soft")
        for lane in board_lanes(board):
            update_lane(board, owner, lane, wip_limit=None)
        open_columns = [c for c in columns if c.kind != "done" and c.name != HARD_COLUMN]
        cards = [create_card(board, owner, title=f"Incident {n}",
                             column=rng.choice(open_columns)).key for n in range(CARDS)]
        tokens = []
        for number in range(MOVERS):
            mover = create_user(f"mover{number}", PASSWORD)
            set_member(board, owner, mover.username, "member")
            tokens.append(create_token(mover, "soak"))
        viewer = create_user("wall", PASSWORD)
        set_member(board, owner, viewer.username, "viewer")
        setup = {"tokens": tokens, "viewer": create_token(viewer, "soak"), "cards": cards,
                 "columns": [c.name for c in columns]}
        db.session.commit()
        db.engine.dispose()
    return setup


class Movers:
    """MOVERS threads moving random cards to random columns, alternating between the servers."""

    def __init__(self, urls: list[str], setup: dict):
        self.urls, self.setup = urls, setup
        self.outcomes: Counter = Counter()
        self.slowest_503 = 0.0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._move, args=(n,), daemon=True)
                        for n in range(MOVERS)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _move(self, number: int) -> None:
        rng = random.Random(number)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.setup['tokens'][number]}"
        turn = number
        while not self.stop.is_set():
            url = self.urls[turn % len(self.urls)]
            turn += 1
            card, column = rng.choice(self.setup["cards"]), rng.choice(self.setup["columns"])
            started = time.monotonic()
            try:
                answer = session.post(f"{url}/api/v1/cards/{card}/move",
                                      json={"column": column}, timeout=15)
                kind = {200: "accepted", 409: "refused", 422: "refused",
                        503: "unavailable"}.get(answer.status_code, f"http {answer.status_code}")
            except requests.RequestException:
                kind = "failed"
            with self.lock:
                self.outcomes[kind] += 1
                if kind == "unavailable":
                    self.slowest_503 = max(self.slowest_503, time.monotonic() - started)
            time.sleep(rng.uniform(0.05, 0.15))  # people, not a tight loop


class Views:
    """The listener processes (bench/listener/soak.js) and their reports."""

    def __init__(self, urls: list[str], token: str):
        self.processes = []
        for index in range(LISTENERS // PER_PROCESS):
            process = subprocess.Popen(
                [NODE, str(LISTENER), urls[index % len(urls)], token, KEY, str(PER_PROCESS)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.processes.append(process)
        for process in self.processes:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a soak listener did not join (exit {process.poll()})")

    def report(self, last_seq: int) -> dict:
        totals = Counter()
        for process in self.processes:
            process.stdin.write(f"report {last_seq}\n")
            process.stdin.flush()
        for process in self.processes:
            _, views, lost, again, reconnects, gaps = process.stdout.readline().split()
            totals.update(views=int(views), lost=int(lost), again=int(again),
                          reconnects=int(reconnects), gaps=int(gaps))
        return totals

    def close(self) -> None:
        for process in self.processes:
            with contextlib.suppress(OSError):
                os.kill(process.pid, signal.SIGCONT)
            process.stdin.close()
            process.wait(10)
            process.stdout.close()


def log_facts(database_url: str) -> tuple[int, int, int]:
    """The board's last seq, the most cards the hard column ever held (replayed from the event
    log), and how many WIP overrides it records."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            board_id, last_seq = connection.execute(
                text("SELECT id, last_seq FROM boards WHERE key = :key"), {"key": KEY}).one()
            hard = connection.execute(text(
                "SELECT id FROM board_columns WHERE board_id = :b AND name = :n"),
                {"b": board_id, "n": HARD_COLUMN}).scalar_one()
            events = connection.execute(text(
                "SELECT type, card_id, from_column_id, to_column_id FROM events "
                "WHERE board_id = :b ORDER BY seq"), {"b": board_id}).all()
    finally:
        engine.dispose()
    place: dict[int, int | None] = {}
    held = most = overrides = 0
    for kind, card, _source, target in events:
        if kind == "wip.overridden":
            overrides += 1
        if kind not in ("card.created", "card.moved") or target is None:
            continue
        held += (target == hard) - (place.get(card) == hard)
        place[card] = target
        most = max(most, held)
    return last_seq, most, overrides


def kill_and_restart(servers: list[Server], folder: Path, env: dict) -> None:
    victim = servers[1]
    worker = victim.worker_pid()
    for pid in (victim.process.pid, worker):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    victim.process.wait(10)
    time.sleep(DOWN_SECONDS)
    servers[1] = Server("wsgi:app", folder, port=victim.port, **env)


def run_scenario(name: str, fault, servers, views, setup, database_url, seconds: float) -> dict:
    seq_before = log_facts(database_url)[0]
    with Movers([s.url for s in servers], setup) as movers:
        time.sleep(seconds / 3)
        fault()
        time.sleep(max(0.0, seconds * 2 / 3))
    time.sleep(2)  # the last pushes land
    last_seq, most, overrides = log_facts(database_url)
    return {"name": name, "moves": dict(movers.outcomes), "slowest_503": movers.slowest_503,
            "events": last_seq - seq_before, "views": views.report(last_seq),
            "most": most, "overrides": overrides}


def run(seconds: float = SOAK_SECONDS, only: str = os.environ.get("SOAK_ONLY", "")
        ) -> list[Figure]:
    """Every scenario (or those whose name holds `only`, SOAK_ONLY) for `seconds` each
    (tests/test_soak.py runs a short one in `make test`)."""
    if NODE is None or not (ROOT / "bench" / "listener" / "node_modules").exists():
        return [Figure("Soak", "-", "skipped", "needs node and `npm ci --prefix bench/listener`")]
    figures = []
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="swarmboard-soak-")))
        try:
            database_url = stack.enter_context(throwaway_postgres("swarmboard_soak"))
        except ConnectionError as error:
            return [Figure("Soak", "-", "skipped", f"PostgreSQL not reachable: {error}")]
        proxy = Proxy(5432)
        stack.callback(proxy.close)
        redis = Redis(folder)
        stack.callback(redis.stop)
        setup = build(database_url)
        proxied = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        env = {"DATABASE_URL": proxied, "REDIS_URL": redis.url,
               "SOCKETIO_CHANNEL": f"swarmboard-soak-{uuid.uuid4().hex[:8]}",
               "WEBHOOKS_DELIVER_IN_PROCESS": "0"}
        servers: list[Server] = []
        stack.callback(lambda: [server.stop() for server in servers])
        servers += [Server("wsgi:app", folder, **env), Server("wsgi:app", folder, **env)]
        memory_before = [s.worker_rss_kib() for s in servers]
        views = Views([s.url for s in servers], setup["viewer"])
        stack.callback(views.close)

        def restart_redis():
            redis.stop()
            time.sleep(DOWN_SECONDS)
            redis.start()

        def outage():
            proxy.go_down()
            time.sleep(OUTAGE_SECONDS)
            proxy.come_back()

        def stall():
            stalled = views.processes[0]
            os.kill(stalled.pid, signal.SIGSTOP)
            time.sleep(STALL_SECONDS)
            os.kill(stalled.pid, signal.SIGCONT)

        scenarios = [
            ("steady", lambda: None),
            ("a process killed (SIGKILL) and restarted",
             lambda: kill_and_restart(servers, folder, env)),
            ("Redis restarted", restart_redis),
            (f"PostgreSQL unreachable {OUTAGE_SECONDS} s", outage),
            (f"a listener stopped reading {STALL_SECONDS} s", stall),
        ]
        previous = Counter()
        for name, fault in [(n, f) for n, f in scenarios if only.lower() in n.lower()]:
            result = run_scenario(name, fault, servers, views, setup, database_url, seconds)
            figures.append(figure(result, previous, seconds))
            previous = result["views"]
        memory_after = [s.worker_rss_kib() for s in servers]
        figures.append(unhandled_errors(folder))
        figures.append(Figure(
            "Soak: worker memory (KiB), process A / B (B restarted once)", "-",
            f"{memory_after[0]} / {memory_after[1]}",
            f"at the start {memory_before[0]} / {memory_before[1]}"))
    return figures


def unhandled_errors(folder: Path) -> Figure:
    """Requests the servers answered 500 (their logs say why): there should be none, faults
    included (an unreachable database is a 503)."""
    found = []
    for log in sorted(folder.glob("gunicorn-*.log")):
        text = log.read_text(errors="replace")
        # Each: the traceback up to the exception it ended with (the last lines say what).
        found += [part.split("\n[", 1)[0][-900:] for part in text.split("Unhandled error")[1:]]
    return Figure("Soak: requests answered 500 (server errors)", "0", str(len(found)),
                  found[0].strip().replace("\n", " | ") if found else "",
                  met=not found)


def figure(result: dict, previous: Counter, seconds: float) -> Figure:
    moves, views = result["moves"], result["views"]
    reconnects = views["reconnects"] - previous.get("reconnects", 0)
    again = views["again"] - previous.get("again", 0)
    held = result["most"] <= HARD_LIMIT and result["overrides"] == 0
    slow = result["slowest_503"]
    other = ", ".join(f"{count} {kind}" for kind, count in moves.items()
                      if kind.startswith("http")) or "0"
    return Figure(
        f"Soak, {seconds:.0f} s: {result['name']}",
        "lost 0; WIP kept; 503 < 5 s",
        f"lost {views['lost']}",
        f"moves {moves.get('accepted', 0)} accepted, {moves.get('refused', 0)} refused, "
        f"{moves.get('unavailable', 0)} 503 (slowest {slow:.1f} s), "
        f"{moves.get('failed', 0)} failed, other: {other}; "
        f"{result['events']} events to {views['views']} views: {again} received again, "
        f"{reconnects} reconnects; {HARD_COLUMN} held at most {result['most']}/{HARD_LIMIT}",
        met=views["lost"] == 0 and held and slow < 5,
    )


if __name__ == "__main__":
    print_table(run())
