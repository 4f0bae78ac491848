"""A post-incident review in the browser: Ann drafts it from the incident's card, writes it,
adds an action for Bob and publishes it; Bob, watching the board, sees the action's card arrive
live, and the stand-up walk will bring it up."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.swarms.andon import clear_andon, pull_andon
from tests import factories as make
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def incident(live_app):
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee")
        bob = make.user("bob", display_name="Bob Stone")
        board = make.board(ann, "simple", key="INC", name="Incidents")
        make.member(board, bob)
        card = make.card(board, ann, "Payments API down")
        pull_andon(card, ann, "checkout fails for everyone")
        clear_andon(card, ann)
        db.session.commit()
        return card.key


def test_a_review_drafted_written_and_published_in_the_browser(live_server, new_page, incident):
    bob = new_page()
    log_in(bob, live_server, "bob")
    bob.goto(f"{live_server}/boards/INC")
    bob.wait_for_selector("#board[data-ready='1']")

    ann = new_page()
    log_in(ann, live_server, "ann")
    ann.goto(f"{live_server}/cards/{incident}")
    ann.click("button:has-text('Draft review')")
    expect(ann.locator(".timeline")).to_contain_text("pulled the andon cord")
    expect(ann.locator(".timeline")).to_contain_text("cleared the andon cord")
    ann.fill("textarea[name=contributing]", "The release had no canary stage.")
    ann.fill("textarea[name=learned]", "Roll out to 1% first.")
    ann.click("button:has-text('Save review')")
    expect(ann.locator("#flash, .flash-area")).to_contain_text("Review saved")

    ann.fill("input[name=title][placeholder^='e.g. Alert']", "Add a canary stage")
    ann.select_option("select[name=owner]", "bob")
    ann.click("button:has-text('Add action')")
    expect(ann.locator("#actions")).to_contain_text("Add a canary stage")
    expect(ann.locator("#actions")).to_contain_text("Bob Stone")
    expect(bob.locator("#board")).to_contain_text("Add a canary stage")  # pushed live

    ann.click("button:has-text('Publish review')")
    expect(ann.locator(".review-head .pill")).to_have_text("published")
    ann.goto(f"{live_server}/boards/INC/reviews?q=canary")
    expect(ann.locator(".reviews-table")).to_contain_text("Payments API down")
    assert ann.errors == [] and bob.errors == []
