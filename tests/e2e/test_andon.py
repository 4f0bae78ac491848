"""The andon cord in two browsers: Ann pulls it on a board card, Bob's open board shows the
banner within a second without a reload; clearing it takes the banner off both screens."""

import re
import time

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests import factories as make
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

READY = "#board[data-ready='1']"
LIVE = "#live-state[data-state='live']"


@pytest.fixture
def ops_board(live_app):
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee")
        bob = make.user("bob", display_name="Bob Stone")
        board = make.board(ann, "simple", key="OPS", name="Operations")
        make.member(board, bob)
        titles = ("Checkout latency above 2 s", "Renew the TLS certificate", "Disk 91% on db-2")
        for title in titles:
            make.card(board, ann, title)
        db.session.commit()


def open_board(new_page, base_url: str, username: str):
    page = new_page()
    log_in(page, base_url, username)
    page.goto(f"{base_url}/boards/OPS")
    page.wait_for_selector(READY)
    page.wait_for_selector(LIVE)
    page.evaluate("window.notReloaded = true")
    return page


def test_a_pulled_cord_shows_on_every_open_board_at_once_and_clears_everywhere(
    live_server, new_page, ops_board
):
    ann = open_board(new_page, live_server, "ann")
    bob = open_board(new_page, live_server, "bob")
    expect(bob.locator("#andon-banner .andon-alert")).to_have_count(0)

    ann.click("#card-OPS-1 .card-andon")
    ann.fill("dialog input[name=reason]", "Checkout fails for every customer")
    ann.click("dialog button:has-text('Pull the andon cord')")
    expect(ann.locator("#andon-banner .andon-alert")).to_contain_text("OPS-1")
    pulled = time.monotonic()

    banner = bob.locator("#andon-banner .andon-alert[data-card='OPS-1']")
    expect(banner).to_contain_text("Checkout fails for every customer", timeout=1000)
    assert time.monotonic() - pulled < 1.0
    expect(bob.locator("#card-OPS-1")).to_have_class(has_class("is-andon"))
    assert bob.evaluate("window.notReloaded") is True

    banner.locator("button.andon-clear").click()
    expect(bob.locator("#andon-banner .andon-alert")).to_have_count(0)
    expect(ann.locator("#andon-banner .andon-alert")).to_have_count(0, timeout=1000)
    expect(ann.locator("#card-OPS-1")).not_to_have_class(has_class("is-andon"))
    assert ann.evaluate("window.notReloaded") is True and bob.evaluate("window.notReloaded")
    assert ann.errors == [] and bob.errors == []


def has_class(name: str):
    """A class list containing `name` (Playwright matches a regular expression)."""
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


@pytest.fixture
def experts(live_app, ops_board):
    """On top of OPS: Xena (another team) knows dns well, Carl knows postfix."""
    from app.accounts.services import create_team, set_skill

    with live_app.app_context():
        xena = make.user("xena", display_name="Xena Ruiz")
        carl = make.user("carl", display_name="Carl Berg")
        create_team("Network", [xena, carl])
        set_skill(xena, "dns", 5)
        set_skill(carl, "postfix", 4)
        db.session.commit()


def test_suggested_experts_follow_the_skills_typed_and_are_invited_on_start(
    live_server, new_page, experts
):
    page = new_page()
    log_in(page, live_server, "bob")
    page.goto(f"{live_server}/cards/OPS-2")
    page.click(".swarm-start-box summary")
    page.fill("#swarm-start input[name=skills]", "postfix")
    expect(page.locator("#swarm-suggestions .expert")).to_have_count(1)
    expect(page.locator("#swarm-suggestions .expert")).to_contain_text("Carl Berg")
    page.check("input[name=invite][value=carl]")
    page.fill("#swarm-start input[name=skills]", "postfix, dns")
    expect(page.locator("#swarm-suggestions .expert")).to_have_count(2)
    expect(page.locator("#swarm-suggestions .expert").first).to_contain_text("from another team")
    expect(page.locator("input[name=invite][value=carl]")).to_be_checked()  # kept on refresh
    page.fill("#swarm-start textarea[name=help_needed]", "The certificate chain is incomplete")
    page.click("button:has-text('Start the swarm')")
    # Starting takes the starter into the swarm's room, Carl already invited.
    expect(page).to_have_url(re.compile(r"/swarms/\d+$"))
    expect(page.locator(".help-needed")).to_contain_text("The certificate chain is incomplete")
    expect(page.locator("#swarm-invite .invitation")).to_contain_text("Carl Berg")
    expect(page.locator("#swarm-invite .invitation")).to_contain_text("pending")
    page.goto(f"{live_server}/cards/OPS-2")
    expect(page.locator(".swarm-open")).to_contain_text("Swarm open: 1 person")
    expect(page.locator("#swarm-panel")).to_contain_text("Invited, no answer yet: Carl Berg")
    assert page.errors == []
