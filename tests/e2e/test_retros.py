"""A retrospective in two browsers: Ann facilitates, Bob writes. Bob sees Ann's phase changes
and, once grouping starts, her notes without reloading; an action Ann writes reaches the board
Bob watches, live."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.retros.services import start_retro
from tests import factories as make
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def retro(live_app):
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee")
        bob = make.user("bob", display_name="Bob Stone")
        board = make.board(ann, "simple", key="OPS", name="Operations")
        make.member(board, bob)
        started = start_retro(board, ann)
        db.session.commit()
        return started.id


def test_two_people_hold_a_retrospective_live(live_server, new_page, retro):
    bob = new_page()
    log_in(bob, live_server, "bob")
    bob.goto(f"{live_server}/retrospectives/{retro}")
    expect(bob.locator(".phases .now")).to_have_text("write")

    ann = new_page()
    log_in(ann, live_server, "ann")
    ann.goto(f"{live_server}/retrospectives/{retro}")
    ann.fill("#note-well-draft", "Pairing on the relay went great")
    ann.press("#note-well-draft", "Enter")
    expect(ann.locator(".col-well .note.mine")).to_have_text("Pairing on the relay went great")
    # Bob learns there is a note, not what it says.
    expect(bob.locator(".col-well .hidden-notes")).to_contain_text("1 note by others")
    bob.fill("#note-improve-draft", "Friday deploys")
    ann.fill("#note-well-draft", "The relay fix held")
    ann.press("#note-well-draft", "Enter")
    expect(bob.locator(".col-well .hidden-notes")).to_contain_text("2 notes by others")
    expect(bob.locator("#note-improve-draft")).to_have_value("Friday deploys")  # kept
    bob.press("#note-improve-draft", "Enter")
    expect(bob.locator(".col-improve .note.mine")).to_have_text("Friday deploys")
    expect(bob.locator("#note-improve-draft")).to_have_value("")
    ann.fill("#note-ideas-draft", "A relay runbook")
    ann.press("#note-ideas-draft", "Enter")
    expect(ann.locator(".col-ideas .note.mine")).to_have_text("A relay runbook")

    ann.click("button:has-text('Move on to group')")
    expect(bob.locator(".phases .now")).to_have_text("group")
    expect(bob.locator(".col-well")).to_contain_text("Pairing on the relay went great")
    # Grouping without dragging: "Group with…"; and by dragging one note onto another.
    first = bob.locator(".note").filter(has=bob.locator(".note-body",
                                                        has_text="The relay fix held"))
    first.locator("select[name=with]").select_option(label="Pairing on the relay went great")
    first.locator("button:has-text('Group')").click()
    expect(ann.locator(".group-box")).to_contain_text("The relay fix held")
    ann.drag_and_drop(".col-ideas .note", ".group-box .note >> nth=0",
                      source_position={"x": 12, "y": 10})  # by its text, not its controls
    expect(bob.locator(".group-box .note")).to_have_count(3)
    bob.fill(".group-name-form input[name=name]", "The mail relay")
    bob.click(".group-name-form button")
    expect(ann.locator(".group-name-form input[name=name]")).to_have_value("The mail relay")

    ann.click("button:has-text('Move on to vote')")
    expect(bob.locator(".votes-left")).to_contain_text("3 of 3 votes left")
    bob.click(".group-box button:has-text('+ Vote')")
    expect(bob.locator(".votes-left")).to_contain_text("2 of 3 votes left")
    bob.click(".group-box button:has-text('+ Vote')")
    expect(bob.locator(".votes-left")).to_contain_text("1 of 3 votes left")
    expect(ann.locator(".vote-total")).to_have_count(0)  # totals hidden while voting
    # A click while a push re-renders the view can miss: let Ann's view catch up first.
    expect(ann.locator("#retro")).to_have_attribute("data-seq",
                                                    bob.get_attribute("#retro", "data-seq"))
    ann.click("button:has-text('Move on to act')")
    expect(bob.locator(".ranked-item .vote-total").first).to_have_text("2 votes")

    board = new_page()
    log_in(board, live_server, "bob")
    board.goto(f"{live_server}/boards/OPS")
    board.wait_for_selector("#board[data-ready='1']")
    ann.fill("#action-title", "Pair on every relay change")
    ann.select_option("#actions select[name=owner]", "bob")
    ann.click("button:has-text('Add action')")
    expect(ann.locator("#actions")).to_contain_text("Pair on every relay change")
    expect(bob.locator("#actions")).to_contain_text("Bob Stone")
    expect(board.locator("#board")).to_contain_text("Pair on every relay change")  # live
    assert ann.errors == [] and bob.errors == [] and board.errors == []
