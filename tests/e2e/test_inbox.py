"""The inbox in two browsers: Ann mentions Bob in a comment, picking him from the @ suggestions;
Bob's bell, on whatever page he has open, counts it at once; he opens it from his inbox."""

import pytest
from playwright.sync_api import expect

from tests import factories as make
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def team(live_app):
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee")
        bob = make.user("bob", display_name="Bob Stone")
        make.user("bobcat", display_name="Not On The Board")
        board = make.board(ann, "simple", key="INB", name="Inbox team")
        make.member(board, bob)
        return make.card(board, ann, "Mail queue stuck on relay-2").key


def test_a_mention_picked_from_suggestions_rings_the_bell_live(live_server, new_page, team):
    bob = new_page()
    log_in(bob, live_server, "bob")  # on My work, a page without a board
    expect(bob.locator("#inbox-bell .bell-count")).to_be_hidden()
    bob.wait_for_function("document.querySelector('#inbox-bell') && window.io !== undefined")

    ann = new_page()
    log_in(ann, live_server, "ann")
    ann.goto(f"{live_server}/cards/{team}")
    comment = ann.locator("textarea[name=body]")
    comment.click()
    comment.press_sequentially("Could @bo", delay=30)
    menu = ann.locator(".mention-menu")
    expect(menu.locator("li")).to_have_count(1)  # bobcat is not on the board
    expect(menu).to_contain_text("Bob Stone")
    comment.press("Enter")  # takes the suggestion, does not send
    expect(menu).to_have_count(0)
    comment.press_sequentially("look at relay-2?", delay=10)
    expect(comment).to_have_value("Could @bob look at relay-2?")
    ann.get_by_role("button", name="Comment").click()
    expect(ann.locator(".comment").last).to_contain_text("Could @bob look at relay-2?")

    count = bob.locator("#inbox-bell .bell-count")
    expect(count).to_be_visible()
    expect(count).to_have_text("1")
    bob.locator("#inbox-bell").click()
    item = bob.locator(".inbox-item.kind-mention")
    expect(item).to_contain_text(
        "Ann Lee mentioned you in a comment: “Could @bob look at relay-2?”")
    item.get_by_role("link").click()
    bob.wait_for_url(f"{live_server}/cards/{team}")
    expect(bob.locator("#inbox-bell .bell-count")).to_be_hidden()
    assert bob.errors == [] and ann.errors == []
