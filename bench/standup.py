"""Stand-up focus latency under `make serve`: from the facilitator's "next" (an HTTP request, as
the button sends it) to the focus event reaching the last of 50 connected views.

Target: p99 under 25 ms. Same machinery as bench/live.py: gunicorn with one gevent-websocket
worker on SQLite, listeners in separate processes (Node socket.io-client, or python-socketio on
gevent where Node is not installed).
"""

import re
import tempfile
from pathlib import Path

import requests

from bench import Figure
from bench.live import (
    KEY,
    PASSWORD,
    Audience,
    Server,
    build_board,
    latencies,
    latency_figure,
    spread,
)

VIEWS = 50
SAMPLES = 200
TARGET_P99 = 0.025
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Facilitator:
    """A logged-in browser that starts the stand-up and steps it with next / previous."""

    def __init__(self, url: str):
        self.url = url
        self.session = requests.Session()
        page = self.session.get(f"{url}/login", timeout=10).text
        token = CSRF_META.search(page).group(1)
        self.session.headers.update({"X-CSRFToken": token, "HX-Request": "true"})
        response = self.session.post(f"{url}/login", data={"username": "owner",
                                                           "password": PASSWORD}, timeout=10)
        response.raise_for_status()
        started = self.session.post(f"{url}/boards/{KEY}/standup", timeout=10)
        if started.status_code != 200:
            raise RuntimeError(f"starting the stand-up answered {started.status_code}")
        self.standup = int(started.text.split('data-standup="')[1].split('"')[0])
        self.steps = 0

    def __call__(self, _seq: int) -> None:
        direction = "next" if self.steps % 2 == 0 else "previous"
        self.steps += 1
        response = self.session.post(f"{self.url}/standups/{self.standup}/{direction}",
                                     timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"{direction} answered {response.status_code}: {response.text}")


def run() -> list[Figure]:
    name = f"Stand-up focus to {VIEWS} views (make serve, SQLite)"
    with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
        folder = Path(folder)
        url = f"sqlite:///{folder / 'standup.db'}"
        setup = build_board(url)
        server = Server("wsgi:app", folder, DATABASE_URL=url)
        audience = Audience(server.url, setup["watcher"])
        try:
            facilitator = Facilitator(server.url)
            audience.add(VIEWS)
            latest = requests.get(
                f"{server.url}/api/v1/boards/{KEY}/events?since=0",
                headers={"Authorization": f"Bearer {setup['owner']}"}, timeout=10,
            ).json()["last_seq"]
            seconds, lost = latencies(facilitator, audience, latest + 1, SAMPLES)
        except RuntimeError as error:
            return [Figure(name, f"p99 < {TARGET_P99 * 1000:.0f} ms", "not measured", str(error))]
        finally:
            audience.close()
            server.stop()
    return [latency_figure(name, spread(seconds), len(seconds), lost, p99=TARGET_P99,
                           listeners=audience.kind())]


if __name__ == "__main__":
    from bench import print_table

    print_table(run())
