"""A swarm in two browsers: the owner invites from the room, the expert sees the invitation
live on their home page, accepts, both talk live, the owner resolves with the expert
continuing, and the board open in the owner's other tab shows the new owner without a reload."""

import pytest
from playwright.sync_api import expect

from app.accounts.services import set_skill
from app.cards.services import update_card
from app.extensions import db
from app.swarms.services import start_swarm
from tests import factories as make
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def swarming(live_app):
    """Board SWM owned by Ann Lee, with card SWM-1 (hers) and an open swarm on it asking for
    postfix; Bob Stone is a member who knows postfix."""
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee")
        bob = make.user("bob", display_name="Bob Stone")
        board = make.board(ann, "simple", key="SWM", name="Mail team")
        make.member(board, bob)
        card = make.card(board, ann, "Mail queue stuck on relay-2")
        update_card(card, ann, owner="ann")
        set_skill(bob, "postfix", 4)
        swarm = start_swarm(card, ann, type="backlog", help_needed="Mails pile up on relay-2",
                            tried="Restarted postfix", skills="postfix")
        db.session.commit()
        return swarm.id


def test_invite_accept_talk_and_resolve_live(live_server, new_page, swarming):
    room_url = f"{live_server}/swarms/{swarming}"
    owner = new_page()
    log_in(owner, live_server, "ann")
    board = owner.context.new_page()  # the owner's other tab
    board.errors = []
    board.on("pageerror", lambda error: board.errors.append(str(error)))
    board.goto(f"{live_server}/boards/SWM")
    expect(board.locator("#live-state")).to_have_text("Live")
    owner.goto(room_url)

    expert = new_page()
    log_in(expert, live_server, "bob")
    expect(expert.locator("#invitation-count")).to_be_hidden()

    owner.locator("#swarm-invite").get_by_role("button", name="Invite Bob Stone").click()
    expect(owner.locator("#swarm-invite")).to_contain_text("pending")

    toast = expert.locator(".invitation-toast")
    expect(toast).to_contain_text("Ann Lee asks you to join a swarm on SWM-1")
    expect(toast).to_contain_text("knows postfix (4/5)")
    expect(expert.locator("#invitation-count")).to_have_text("⚇ 1")
    toast.get_by_role("button", name="Accept").click()
    expert.wait_for_url(room_url)

    expect(owner.locator("#swarm-members")).to_contain_text("Bob Stone")
    expect(board.locator("#card-SWM-1 .swarm-badge")).to_have_text("⚇ 2")

    owner.locator("#composer textarea").fill("Is the **deferred** queue growing?")
    owner.locator("#composer textarea").press("Enter")
    expect(expert.locator("#swarm-messages strong", has_text="deferred")).to_be_visible()
    expect(owner.locator("#composer textarea")).to_have_value("")
    expert.locator("#composer textarea").fill("Yes: relay-2 resolves MX from a stale cache")
    expert.locator("#composer textarea").press("Enter")
    expect(owner.locator("#swarm-messages")).to_contain_text("stale cache")
    expect(owner.locator("#swarm-messages .message")).to_have_count(2)
    expect(expert.locator("#swarm-messages .message")).to_have_count(2)

    owner.get_by_role("button", name="Resolve…").click()
    dialog = owner.locator("#resolve-dialog")
    dialog.get_by_label("Who continues with the card").select_option("bob")
    dialog.get_by_label("Outcome").fill("Flushed the resolver cache on relay-2")
    dialog.get_by_label("What we learned").fill("Check the resolver cache first")
    dialog.get_by_role("button", name="Resolve", exact=True).click()

    expect(owner.locator(".room-ending")).to_contain_text("Bob Stone continues with SWM-1")
    expect(expert.locator(".room-ending")).to_contain_text("Bob Stone continues with SWM-1")
    expect(expert.locator("#composer")).to_have_count(0)
    card = board.locator("#card-SWM-1")
    expect(card.locator(".avatar")).to_have_attribute("title", "Owner: Bob Stone")
    expect(card.locator(".swarm-badge")).to_have_count(0)
    assert owner.errors == [] and expert.errors == [] and board.errors == []
