"""Stand-up mode in the browser: the facilitator walks the board with the keyboard and every
other open view follows the card in focus, with the same timers; only the facilitator steps."""

import re

import pytest
from playwright.sync_api import expect

from app.cards.moves import move_card
from app.cards.services import block_card
from app.extensions import db
from tests import factories as make
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e
READY = "#board[data-ready='1']"


@pytest.fixture
def walk_board(live_app):
    """STU: Ann facilitates, Bob attends. Doing holds three cards; STU-2 is blocked, so the
    walk starts with it."""
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee")
        bob = make.user("bob", display_name="Bob Stone")
        board = make.board(ann, "simple", key="STU", name="Stand-up team")
        make.member(board, bob)
        doing = make.column(board, "Doing")
        cards = [make.card(board, ann, f"Ticket {n}") for n in range(1, 4)]
        for card in cards:
            move_card(card, ann, column=doing)
        block_card(cards[1], ann, "Waiting for the vendor")
        db.session.commit()


def open_board(new_page, base_url, username):
    page = new_page()
    log_in(page, base_url, username)
    page.goto(f"{base_url}/boards/STU")
    page.wait_for_selector(READY)
    expect(page.locator("#live-state")).to_have_text("Live")
    return page


def test_the_facilitator_walks_and_every_view_follows(live_server, new_page, walk_board):
    ann = open_board(new_page, live_server, "ann")
    bob = open_board(new_page, live_server, "bob")

    ann.click(".standup-start button")
    for page in (ann, bob):
        expect(page.locator("#standup-bar .standup-card .key")).to_have_text("STU-2")
        expect(page.locator("#standup-bar .standup-pos")).to_have_text("1 of 3")
    # Only the facilitator gets the controls; Bob may join.
    expect(ann.locator("#standup-bar .facilitator-only")).to_be_visible()
    expect(bob.locator("#standup-bar .facilitator-only")).to_be_hidden()
    bob.click("#standup-bar .attendee-only button:has-text('Join remotely')")
    expect(ann.locator("#standup-bar .standup-who")).to_contain_text("2 here")

    ann.keyboard.press("ArrowRight")
    expect(bob.locator("#standup-bar .standup-pos")).to_have_text("2 of 3", timeout=5000)
    focused = bob.locator("#standup-bar").get_attribute("data-focus-card")
    assert focused == ann.locator("#standup-bar").get_attribute("data-focus-card")
    # The card in focus is highlighted on the other screen too.
    outline = bob.locator(f"#card-{focused}").evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    # Bob's arrow keys do nothing to the walk.
    bob.keyboard.press("ArrowRight")
    bob.wait_for_timeout(300)
    expect(ann.locator("#standup-bar .standup-pos")).to_have_text("2 of 3")
    # The meeting timer counts up from the server's start on both screens.
    expect(bob.locator('#standup-bar [data-timer="meeting"]')).not_to_have_text("0:00",
                                                                                   timeout=3000)

    ann.keyboard.press("ArrowLeft")
    expect(bob.locator("#standup-bar .standup-pos")).to_have_text("1 of 3")
    ann.once("dialog", lambda dialog: dialog.accept())
    ann.click("#standup-bar button:has-text('End')")
    expect(ann).to_have_url(re.compile(r"/standups/\d+$"))
    expect(ann.locator("h1")).to_contain_text("Stand-up of")
    expect(ann.locator("text=Bob Stone")).to_be_visible()
    expect(bob.locator("#standup-bar")).to_be_hidden()
    assert ann.errors == [] and bob.errors == []
