"""Error budgets in the browser: Bob watches the board while Ann, its owner, defines an
objective whose budget is already low. Bob's board shows what is left and puts reliability work
first, live; starting a feature then asks Bob why, and the reason is on the objective's page."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.clock import utcnow
from app.extensions import db
from app.swarms.andon import clear_andon, pull_andon
from tests import factories as make
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def ops_board(live_app):
    """OPS: 2 hours of andon in the last 10 days; a feature made before a defect."""
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee")
        bob = make.user("bob", display_name="Bob Stone")
        board = make.board(ann, "simple", key="OPS", name="Operations")
        make.member(board, bob)
        outage = make.card(board, ann, "Payments API down", type="incident")
        started = utcnow() - timedelta(hours=6)
        pull_andon(outage, ann, "checkout fails", at=started)
        clear_andon(outage, ann, at=started + timedelta(minutes=120))
        make.card(board, ann, "Dark mode", type="feature")
        make.card(board, ann, "Crash on save", type="defect")
        db.session.commit()


def to_do(page):
    return page.locator('.cell[aria-label="To do, Standard"] .card')


def test_a_low_budget_shows_live_and_asks_why_before_a_feature_starts(
        live_server, new_page, ops_board):
    bob = new_page()
    log_in(bob, live_server, "bob")
    bob.goto(f"{live_server}/boards/OPS")
    bob.wait_for_selector("#board[data-ready='1']")
    expect(to_do(bob).first).to_contain_text("Payments API down")
    expect(to_do(bob).nth(1)).to_contain_text("Dark mode")  # as made: the feature first

    ann = new_page()
    log_in(ann, live_server, "ann")
    ann.goto(f"{live_server}/boards/OPS/slos")
    ann.fill("input[name=name]", "Checkout available")
    ann.fill("input[name=target]", "99")
    ann.fill("input[name=window_days]", "10")
    ann.click("button:has-text('Define the objective')")
    panel = ann.locator(".slo-panel", has_text="Checkout available")
    expect(panel.locator(".slo-state")).to_have_text("Budget low: reliability first")
    expect(panel.locator("[data-figure=left]")).to_have_text("17%")
    expect(panel).to_contain_text("Payments API down")

    strip = bob.locator("#slo-strip")  # pushed live to Bob's board
    expect(strip).to_contain_text("Checkout available")
    expect(strip).to_contain_text("17% left")
    expect(strip.locator(".slo-chip")).to_have_class("slo-chip slo-low")
    expect(to_do(bob).nth(1)).to_contain_text("Crash on save")  # reliability work first
    expect(to_do(bob).nth(2)).to_contain_text("Dark mode")

    bob.locator(".card", has_text="Dark mode").locator(".card-move").click()
    bob.locator("dialog[open] select[name=column]").select_option(label="Doing (limit 3)")
    bob.locator("dialog[open] button[type=submit]").click()
    asked = bob.locator("dialog[open]", has_text="Error budget low")
    expect(asked).to_contain_text("Checkout available (99% over 10 days) has 17% of its error "
                                  "budget left")
    asked.locator("input[name=override_reason]").fill("Promised to the customer for Monday")
    asked.locator("button:has-text('Start it anyway')").click()
    expect(bob.locator('.cell[aria-label="Doing, Standard"]')).to_contain_text("Dark mode")

    ann.reload()
    expect(ann.locator("table", has_text="Promised to the customer")).to_contain_text("Bob Stone")
    assert ann.errors == [] and bob.errors == []
