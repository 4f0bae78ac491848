"""A person at the board: log in, add a card, drag it, meet a WIP limit, use the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from app.boards.services import update_column
from app.extensions import db
from tests import factories as make
from tests.e2e.conftest import drag, log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def team_board(live_app):
    """A simple board SIM (To do · Doing · Done) owned by ann; Doing has a hard limit of 2."""
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee")
        make.user("vic", display_name="Vic Viewer")
        board = make.board(ann, "simple", key="SIM", name="Simple team")
        make.member(board, db.session.get(type(ann), 2), "viewer")
        update_column(board, ann, make.column(board, "Doing"), wip_limit=2, wip_policy="hard")
        db.session.commit()
    return "SIM"


def cell(page, column: str, lane: str = "Standard"):
    return page.locator(f'.cell[aria-label="{column}, {lane}"]')


def wip(page, column: str):
    return page.locator(".col-head", has=page.locator(".col-name", has_text=column)).locator(".wip")


def test_create_drag_and_persist_with_wip_counter(live_server, new_page, team_board):
    page = new_page()
    log_in(page, live_server, "ann")
    page.goto(f"{live_server}/boards/SIM")
    page.fill("#quick-add", "Printer on fire, 3rd floor")
    page.keyboard.press("Enter")
    card = cell(page, "To do").locator(".card", has_text="Printer on fire")
    expect(card).to_be_visible()
    expect(wip(page, "Doing")).to_have_text("0 / 2")

    drag(page, card, cell(page, "Doing"))
    expect(cell(page, "Doing").locator(".card", has_text="Printer on fire")).to_be_visible()
    expect(wip(page, "Doing")).to_have_text("1 / 2")

    page.reload()
    expect(cell(page, "Doing").locator(".card", has_text="Printer on fire")).to_be_visible()
    expect(wip(page, "Doing")).to_have_text("1 / 2")
    assert page.errors == []


def test_hard_limit_refusal_shows_its_message_and_the_card_snaps_back(
    live_server, new_page, team_board
):
    page = new_page()
    log_in(page, live_server, "ann")
    page.goto(f"{live_server}/boards/SIM")
    for title in ("first", "second", "third"):
        page.fill("#quick-add", title)
        page.keyboard.press("Enter")
        expect(cell(page, "To do").locator(".card", has_text=title)).to_be_visible()
    for title in ("first", "second"):
        drag(page, cell(page, "To do").locator(".card", has_text=title), cell(page, "Doing"))
        expect(cell(page, "Doing").locator(".card", has_text=title)).to_be_visible()
    expect(wip(page, "Doing")).to_have_text("2 / 2")
    expect(wip(page, "Doing")).to_have_class(re.compile("wip-at"))

    drag(page, cell(page, "To do").locator(".card", has_text="third"), cell(page, "Doing"))
    expect(page.locator("#flash")).to_contain_text("at its WIP limit (2/2)")
    expect(cell(page, "To do").locator(".card", has_text="third")).to_be_visible()
    expect(wip(page, "Doing")).to_have_text("2 / 2")


def test_keyboard_moves_a_focused_card_between_columns(live_server, new_page, team_board):
    page = new_page()
    log_in(page, live_server, "ann")
    page.goto(f"{live_server}/boards/SIM")
    page.fill("#quick-add", "Reset MFA for new hire")
    page.keyboard.press("Enter")
    card = page.locator(".card", has_text="Reset MFA")
    expect(card).to_be_visible()
    card.focus()
    page.keyboard.press("Shift+ArrowRight")
    expect(cell(page, "Doing").locator(".card", has_text="Reset MFA")).to_be_visible()
    expect(page.locator(".card", has_text="Reset MFA")).to_be_focused()
    page.keyboard.press("Shift+ArrowRight")
    expect(cell(page, "Done").locator(".card", has_text="Reset MFA")).to_be_visible()


def test_move_to_dialog_and_override_reason(live_server, new_page, team_board, live_app):
    with live_app.app_context():
        from app.accounts.services import user_by_username
        from app.boards.access import get_board

        ann = user_by_username("ann")
        board = get_board("SIM", ann)
        update_column(board, ann, make.column(board, "Doing"), wip_limit=1,
                      wip_policy="hard-with-override")
        make.card(board, ann, "already doing", column=make.column(board, "Doing"))
        make.card(board, ann, "urgent one")
    page = new_page()
    log_in(page, live_server, "ann")
    page.goto(f"{live_server}/boards/SIM")
    page.locator(".card", has_text="urgent one").locator(".card-move").click()
    dialog = page.locator("dialog[open]")
    dialog.locator("select[name=column]").select_option(label="Doing (limit 1)")
    dialog.locator("button[type=submit]").click()
    override = page.locator("dialog[open]", has_text="Over the WIP limit")
    expect(override).to_be_visible()
    override.locator("input[name=override_reason]").fill("Major incident, CAB approved")
    override.locator("button[type=submit]").click()
    expect(cell(page, "Doing").locator(".card", has_text="urgent one")).to_be_visible()
    expect(wip(page, "Doing")).to_have_text("2 / 1")
    expect(wip(page, "Doing")).to_have_class(re.compile("wip-over"))


def test_viewer_sees_the_board_but_cannot_move(live_server, new_page, team_board, live_app):
    with live_app.app_context():
        from app.accounts.services import user_by_username
        from app.boards.access import get_board

        ann = user_by_username("ann")
        make.card(get_board("SIM", ann), ann, "<script>alert(1)</script> title")
    page = new_page()
    log_in(page, live_server, "vic")
    page.goto(f"{live_server}/boards/SIM")
    card = page.locator(".card", has_text="<script>alert(1)</script> title")
    expect(card).to_be_visible()
    expect(page.locator(".card-move").first).to_be_hidden()
    expect(page.locator("#quick-add")).to_have_count(0)
    drag(page, card, cell(page, "Doing"))
    page.reload()
    expect(cell(page, "To do").locator(".card")).to_have_count(1)


def test_filter_is_reflected_in_the_url(live_server, new_page, team_board, live_app):
    page = new_page()
    log_in(page, live_server, "ann")
    page.goto(f"{live_server}/boards/SIM")
    for title in ("VPN drops", "Printer jam"):
        page.fill("#quick-add", title)
        page.keyboard.press("Enter")
        expect(page.locator(".card", has_text=title)).to_be_visible()
    page.fill("#filter-q", "vpn")
    expect(page.locator(".card")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=vpn"))
    page.goto(page.url)
    expect(page.locator(".card")).to_have_count(1)
    expect(page.locator(".filter-note")).to_contain_text("Showing 1 of 2 cards")
