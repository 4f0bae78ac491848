"""The soak and faults of `make soak` (bench/soak.py), short, in every `make test`: two gunicorn
processes on PostgreSQL (through a TCP proxy) and a Redis of their own, 200 reconnecting views,
10 movers into a hard WIP limit; each scenario (steady, a process SIGKILLed, Redis restarted,
PostgreSQL cut for 10 s, a listener stalled for 30 s) for SOAK_TEST_SECONDS (24 by default).
Every view must have every event after catching up, the hard limit must never have been passed
(replayed from the log), and requests during the outage must be answered 503 within 5 s.
`make soak` runs the same for 3 minutes a scenario and prints the figures."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bench import print_table, soak
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.postgres
SECONDS = float(os.environ.get("SOAK_TEST_SECONDS") or 24)
LISTENER = Path(__file__).parent.parent / "bench" / "listener"


def test_a_short_soak_loses_no_event_keeps_the_wip_limit_and_answers_outages_at_once(capsys):
    if shutil.which("node") is None or shutil.which("npm") is None:
        skip_or_fail("the soak listens with Node socket.io-client: install node and npm")
    if not (LISTENER / "node_modules").exists():
        subprocess.run(["npm", "ci", "--prefix", str(LISTENER), "--no-audit", "--no-fund",
                        "--silent"], check=True)
    figures = soak.run(SECONDS)
    with capsys.disabled():  # the figures belong in the test log
        print()
        print_table(figures)
    skipped = [f.detail for f in figures if f.measured == "skipped"]
    if skipped:
        skip_or_fail(skipped[0])
    missed = [f"{f.name}: {f.measured}; {f.detail}" for f in figures if f.met is False]
    assert not missed, "\n".join(missed)
