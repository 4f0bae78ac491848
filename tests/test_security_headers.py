"""What every answer tells the browser: a Content-Security-Policy that runs no inline script,
who may frame the pages, no sniffing, no referrer to other sites; cookies HttpOnly, SameSite=Lax,
Secure over TLS (directly or through a trusted proxy)."""

import re
from pathlib import Path

import pytest

from app.extensions import db
from app.swarms.services import start_swarm
from app.wall.services import create_wall_link
from tests import factories as make
from tests.conftest import CsrfClient, _truncate_all, make_app

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\bhx-on[:-]", re.I)


def policy(response) -> dict[str, str]:
    parts = [p.strip() for p in response.headers["Content-Security-Policy"].split(";")]
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] for p in parts if p}


def test_pages_run_only_swarmboards_own_script_files(client):
    csp = policy(client.get("/login"))
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'self'"


def test_every_answer_carries_the_other_safety_headers(client, simple):
    for path in ("/login", "/static/js/app.js", "/boards/SIM", "/nowhere"):
        response = client.get(path)
        headers = response.headers
        response.close()  # a static file answer holds the file open until closed
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert headers["X-Frame-Options"] == "DENY", path


def test_no_template_holds_inline_script_or_handlers():
    found = [f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
             for path in TEMPLATES.rglob("*.html")
             for match in INLINE_SCRIPT.finditer(path.read_text())]
    assert found == []


def test_rendered_pages_hold_no_inline_script(simple, login):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer jam")
    swarm = start_swarm(card, ann, type="backlog", help_needed="Toner")
    _, token = create_wall_link(board, ann, name="Team TV")
    client = login("ann")
    for path in ("/", "/boards/SIM", f"/cards/{card.key}", f"/swarms/{swarm.id}",
                 "/boards/SIM/settings", "/boards/SIM/metrics", "/profile", "/inbox",
                 f"/wall/{token}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert INLINE_SCRIPT.findall(page.get_data(as_text=True)) == [], path


def set_cookie(response, name: str) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "="))


def log_in(client, **kwargs):
    return client.post("/login", data={"username": "ann", "password": make.PASSWORD,
                                       "remember": "1"}, **kwargs)


def test_cookies_are_httponly_and_lax_and_not_secure_over_plain_http(app, simple):
    plain = log_in(app.test_client())
    session = set_cookie(plain, "session")
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session
    assert "HttpOnly" in set_cookie(plain, "remember_token")


def test_cookies_are_secure_over_tls(app, simple):
    secure = log_in(app.test_client(), base_url="https://localhost",
                    headers={"Referer": "https://localhost/login"})  # CSRF checks it on TLS
    assert secure.status_code == 302
    assert "Secure" in set_cookie(secure, "session")
    assert "Secure" in set_cookie(secure, "remember_token")


@pytest.fixture
def proxied_app(database_url):
    app = make_app(database_url, PROXY_FIX=True, FRAME_ANCESTORS=["https://tv.example.org"])
    app.test_client_class = CsrfClient
    with app.app_context():
        yield app
        db.session.remove()
        if database_url.startswith("postgresql"):
            _truncate_all(app)  # the shared test database, as the `app` fixture leaves it
        db.engine.dispose()


def test_behind_a_trusted_proxy_tls_is_seen_and_framing_can_be_allowed(proxied_app):
    ann = make.user("ann")
    make.board(ann, "simple", key="SIM")
    answer = log_in(proxied_app.test_client(), headers={"X-Forwarded-Proto": "https",
                                                        "Referer": "https://localhost/login"})
    assert answer.status_code == 302
    assert "Secure" in set_cookie(answer, "session")
    csp = policy(answer)
    assert csp["frame-ancestors"] == "https://tv.example.org"
    assert "X-Frame-Options" not in answer.headers
