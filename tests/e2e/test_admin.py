"""Administration in two browsers: a site admin deactivates Bob from his page (confirming the
question); Bob, looking at a board in his own browser, is sent to the login page at once and
cannot come back with his old session."""

import pytest
from playwright.sync_api import expect

from tests import factories as make
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def team(live_app):
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee", is_admin=True)
        bob = make.user("bob", display_name="Bob Stone")
        board = make.board(ann, "simple", key="ADM", name="Admin team")
        make.member(board, bob)


def test_deactivating_someone_sends_their_open_pages_to_the_login(live_server, new_page, team):
    bob = new_page()
    log_in(bob, live_server, "bob")
    bob.goto(f"{live_server}/boards/ADM")
    bob.wait_for_selector("#board[data-ready='1']")
    bob.wait_for_function("window.io !== undefined")

    ann = new_page()
    log_in(ann, live_server, "ann")
    ann.click("nav.topnav >> text=Admin")
    ann.click("text=Bob Stone")
    questions = []
    ann.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    ann.click("button:has-text('Deactivate')")
    expect(ann.locator(".pill.off")).to_contain_text("deactivated")
    assert questions and "Deactivate bob?" in questions[0]

    bob.wait_for_url(f"{live_server}/login?ended=1")
    expect(bob.locator(".login")).to_contain_text("Your session ended")
    bob.goto(f"{live_server}/boards/ADM")
    assert bob.url.startswith(f"{live_server}/login")

    ann.click("text=Audit log")
    expect(ann.locator("tr[data-action='person.deactivated']")).to_contain_text("bob")
    assert ann.errors == [] and bob.errors == []


def test_declining_the_question_deactivates_nobody(live_server, new_page, team):
    ann = new_page()
    log_in(ann, live_server, "ann")
    ann.goto(f"{live_server}/admin/people/bob")
    ann.on("dialog", lambda dialog: dialog.dismiss())
    ann.click("button:has-text('Deactivate')")
    ann.reload()  # what the server holds
    expect(ann.locator(".pill.ok")).to_contain_text("active")
    expect(ann.locator("button:has-text('Deactivate')")).to_have_count(1)
