"""Cross-site WebSocket hijacking: a page of another site cannot open a socket that rides a
Swarmboard login; API-token clients connect from anywhere; allowed origins are configurable."""

import re

import pytest
import requests
import socketio as socketio_client

from app.accounts.services import create_token
from app.extensions import db, socketio
from tests import factories as make
from tests.servers import served
from tests.test_realtime import logged_in

EVIL = "http://evil.example"


@pytest.fixture
def bob(simple):
    return simple[2]


def connected(app, origin=None, browser=None, auth=None) -> bool:
    headers = {"Origin": origin} if origin else {}
    client = socketio.test_client(app, flask_test_client=browser, auth=auth, headers=headers)
    try:
        return client.is_connected()
    finally:
        if client.is_connected():
            client.disconnect()


def test_a_login_from_another_sites_page_is_refused(app, bob):
    assert connected(app, EVIL, browser=logged_in(app, "bob")) is False


def test_a_login_from_swarmboards_own_pages_connects(app, bob):
    browser = logged_in(app, "bob")
    assert connected(app, "http://localhost", browser=browser)
    assert connected(app, None, browser=browser)  # no Origin: not a web page
    app.config["PUBLIC_URL"] = "https://board.example.org"  # behind a proxy
    assert connected(app, "https://board.example.org", browser=browser)


def test_allowed_origins_are_configurable(app, bob):
    browser = logged_in(app, "bob")
    app.config["SOCKETIO_ALLOWED_ORIGINS"] = ["https://portal.example.org"]
    assert connected(app, "https://portal.example.org", browser=browser)
    assert connected(app, EVIL, browser=browser) is False


def test_an_api_token_connects_from_any_origin(app, bob):
    token = create_token(bob, "dashboard")
    db.session.commit()
    assert connected(app, EVIL, auth={"token": token})


def test_over_a_real_server_the_cookie_is_refused_and_the_token_taken(app, bob):
    token = create_token(bob, "dashboard")
    db.session.commit()
    with served(app) as base:
        browser = requests.Session()
        page = browser.get(f"{base}/login").text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]
        browser.post(f"{base}/login", data={"username": "bob", "password": make.PASSWORD,
                                            "csrf_token": csrf})
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        browser.close()

        hijacker, refusals = socketio_client.Client(reconnection=False), []
        hijacker.on("connect_error", refusals.append)
        with pytest.raises(socketio_client.exceptions.ConnectionError):
            hijacker.connect(base, headers={"Origin": EVIL, "Cookie": cookie},
                             transports=["polling"], wait_timeout=5)
        assert "may not use a Swarmboard login" in refusals[0]["message"]
        dashboard = socketio_client.Client(reconnection=False)
        dashboard.connect(base, headers={"Origin": EVIL}, auth={"token": token},
                          transports=["websocket"], wait_timeout=5)
        assert dashboard.connected
        assert dashboard.call("join", {"board": "SIM"}, timeout=5)["ok"] is True
        dashboard.disconnect()
