"""`make serve`: gunicorn with the gevent-websocket worker, started as a real process, pushes a move
made over HTTP to a python-socketio client connected over the websocket transport."""

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import socketio

from app.accounts.services import create_token
from app.extensions import db
from tests import factories as make
from tests.conftest import make_app
from tests.servers import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
WORKER = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
BOOT_SECONDS = 10
WAIT_SECONDS = 5


@pytest.fixture
def served_board(tmp_path, sqlite_template, request):
    """A board SRV with one card, ann's API token, and gunicorn serving them as `make serve`
    does (gevent-websocket worker, SOCKETIO_ASYNC_MODE=gevent) on a free port."""
    path = tmp_path / "serve.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = make_app(url)
    with app.app_context():
        ann = make.user("ann")
        board = make.board(ann, "simple", key="SRV")
        card_key = make.card(board, ann, title="Printer offline").key
        token = create_token(ann, "serve test")
        db.session.commit()
        db.engine.dispose()

    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SOCKETIO_ASYNC_MODE": "gevent", "SECRET_KEY": "t"}
    env.pop("REDIS_URL", None)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", WORKER, "--workers", "1",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )

    def stop():
        process.terminate()
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=WAIT_SECONDS)

    request.addfinalizer(stop)
    base = f"http://127.0.0.1:{port}"
    wait_until_serving("gunicorn", base, process, log, BOOT_SECONDS)
    return base, token, card_key


def test_gunicorn_with_gevent_pushes_a_move_to_a_websocket_client(served_board):
    base, token, card_key = served_board
    received: list[dict] = []
    arrived = threading.Event()
    client = socketio.Client(reconnection=False)

    @client.on("board_event")
    def on_board_event(message):
        received.append(message)
        arrived.set()

    client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=WAIT_SECONDS)
    try:
        assert client.transport() == "websocket"
        ack = client.call("join", {"board": "SRV"}, timeout=WAIT_SECONDS)
        assert ack["ok"] is True

        response = requests.post(
            f"{base}/api/v1/cards/{card_key}/move",
            json={"column": "Doing"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=WAIT_SECONDS,
        )
        assert response.status_code == 200, response.text
        assert arrived.wait(WAIT_SECONDS), "no board_event arrived"
    finally:
        client.disconnect()

    message = received[0]
    assert (message["board"], message["type"], message["card"]) == ("SRV", "card.moved", card_key)
    assert message["seq"] == ack["seq"] + 1
    assert card_key in message["html"]
