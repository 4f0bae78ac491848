"""Helpers for tests that start real server processes."""

import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def wait_until_serving(name: str, base: str, process: subprocess.Popen, log: Path,
                       seconds: float) -> None:
    """Until the server answers /login; fail with its log if it exits or stays silent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log_tail(log)}")
        try:
            if requests.get(f"{base}/login", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or still starting up (a loaded machine answers slowly)
        time.sleep(0.1)
    pytest.fail(f"{name} did not answer within {seconds} s:\n{log_tail(log)}")


@contextmanager
def served(app):
    """Serve the app on a free port of 127.0.0.1 in threads of this process; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
