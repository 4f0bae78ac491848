"""A real Prometheus Alertmanager (Debian's prometheus-alertmanager), started by the test on
127.0.0.1, notifies a served Swarmboard through its webhook_config with a board's token: a
firing alert becomes an incident card, its resolution reaches the card."""

import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from app.alerts.models import Alert
from app.alerts.services import update_intake
from app.boards.services import find_column
from app.cards.models import Card
from app.events.models import Event
from app.extensions import db
from app.swarms.andon import create_hook
from tests import factories as make
from tests.conftest import skip_or_fail
from tests.servers import free_port, log_tail, served

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
WAIT = 30


@pytest.fixture
def swarmboard(app):
    with served(app) as base_url:
        yield base_url


@pytest.fixture
def alertmanager(tmp_path):
    """Start Alertmanager with a config the test writes; yields (start, base URL)."""
    if ALERTMANAGER is None:
        skip_or_fail("Prometheus Alertmanager is not installed (apt install "
                     "prometheus-alertmanager)")
    port, processes = free_port(), []
    log = tmp_path / "alertmanager.log"
    output = log.open("w")

    def start(config: str) -> str:
        (tmp_path / "alertmanager.yml").write_text(config)
        process = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={tmp_path / 'alertmanager.yml'}",
             f"--storage.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
             "--cluster.listen-address="],
            stdout=output, stderr=subprocess.STDOUT)
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"Alertmanager exited:\n{log_tail(log)}")
            try:
                if requests.get(f"{base}/-/ready", timeout=2).status_code == 200:
                    return base
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        pytest.fail(f"Alertmanager did not start:\n{log_tail(log)}")

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)
    output.close()


def config(hook_url: str, token: str) -> str:
    return f"""
route:
  receiver: swarmboard
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: swarmboard
    webhook_configs:
      - url: {hook_url}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


def post_alert(base: str, ends_at: datetime | None = None) -> None:
    alert = {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
             "annotations": {"summary": "Disk 95% full", "runbook_url": "https://runbooks.x/disk"},
             "generatorURL": "http://prometheus:9090/graph"}
    if ends_at:
        alert["endsAt"] = ends_at.isoformat().replace("+00:00", "Z")
    response = requests.post(f"{base}/api/v2/alerts", json=[alert], timeout=5)
    assert response.status_code == 200, response.text


def wait_for(find, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = find()
        db.session.rollback()  # hold no transaction while the server writes (SQLite)
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"Alertmanager's notification never arrived: {what}")


def test_alertmanager_notifications_open_and_resolve_an_incident_card(app, swarmboard,
                                                                    alertmanager):
    ann = make.user("ann")
    board = make.board(ann, "restoration", key="OPS")
    _, token = create_hook(board, ann, "Alertmanager")
    update_intake(board, ann, andon="critical", resolved_column="Resolved")
    db.session.commit()
    base = alertmanager(config(f"{swarmboard}/hooks/alerts/OPS", token))

    post_alert(base)
    key = wait_for(lambda: db.session.scalar(
        select(Card.number).where(Card.title.like("DiskFull%"))), "the firing alert")
    card = db.session.scalar(select(Card).where(Card.number == key))
    assert card.title == "DiskFull: Disk 95% full (db-1)"
    assert card.lane.name == "Expedite" and card.priority == 1 and card.andon_at is not None
    assert "[Runbook](https://runbooks.x/disk)" in card.description
    db.session.rollback()

    post_alert(base, ends_at=datetime.now(UTC) - timedelta(seconds=1))
    wait_for(lambda: db.session.scalar(select(Event.id).where(Event.type == "alert.resolved")),
             "the resolution")
    db.session.expire_all()
    card = db.session.scalar(select(Card).where(Card.number == key))
    assert card.column == find_column(board, "Resolved") and card.andon_at is None
    stored = db.session.scalar(select(Alert))
    assert (stored.status, stored.times_fired, stored.source) == ("resolved", 1, "alertmanager")
    db.session.rollback()
