"""Browser tests: a real server in a thread and Debian's Chromium driven by Playwright.

Every request that is not to 127.0.0.1 is refused, so a CDN dependency fails loudly.
"""

import os
import shutil
from urllib.parse import urlparse

import pytest

from app.extensions import db
from tests.conftest import make_app, skip_or_fail
from tests.servers import served

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_app(tmp_path, sqlite_template):
    path = tmp_path / "e2e.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    return app


@pytest.fixture
def live_server(live_app):
    """Serve the app on a free port; yields its base URL."""
    with served(live_app) as base_url:
        yield base_url
    with live_app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _local_only(route):
    if urlparse(route.request.url).hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort()
        pytest.fail(f"the page asked for a non-local resource: {route.request.url}")


@pytest.fixture
def new_page(browser, request):
    """Open pages in fresh contexts; every browser error fails the test."""
    contexts = []

    def _open(width: int = 1600, height: int = 1000):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.route("**/*", _local_only)
        page = context.new_page()
        page.set_default_timeout(8000)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        # The Content-Security-Policy refusing something is an error of ours, on every page.
        page.on("console", lambda message: page.errors.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text
                else None)
        contexts.append(context)
        return page

    yield _open
    for context in contexts:
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            os.makedirs("test-artifacts", exist_ok=True)
            for index, page in enumerate(context.pages):
                page.screenshot(path=f"test-artifacts/{request.node.name}-{index}.png")
        context.close()


def pytest_collection_modifyitems(items):
    # When Chromium resets a connection mid-download (a page closing), werkzeug's dev server
    # drops the static file without closing it; that ResourceWarning is the server's, not ours.
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


def log_in(page, base_url: str, username: str, password: str = "correct-horse"):
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def drag(page, source, target, steps: int = 12):
    """Drag with stepped mouse moves (SortableJS runs in fallback mode, not HTML5 DnD)."""
    page.wait_for_selector("#board[data-ready='1']")
    start = source.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 12)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 6, start["y"] + 18, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + min(30, end["height"] / 2), steps=steps)
    page.wait_for_timeout(120)
    page.mouse.up()
    page.wait_for_selector("#board[data-ready='1']")  # the server's answer has been swapped in
