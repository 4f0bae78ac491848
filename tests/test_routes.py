"""The HTML side, per role: what each person can see and do, and what a refusal looks like."""

import pytest
from sqlalchemy import select

from app.boards.services import update_column
from app.cards.models import Card
from app.cards.moves import move_card
from app.extensions import db
from tests import factories as make

HX = {"HX-Request": "true"}


@pytest.fixture
def team(app):
    """Board SIM owned by ann; bob is a member, vic a viewer, olga is not on it."""
    ann = make.user("ann", display_name="Ann Lee")
    bob = make.user("bob")
    vic = make.user("vic")
    make.user("olga")
    board = make.board(ann, "simple", key="SIM")
    make.member(board, bob)
    make.member(board, vic, "viewer")
    return board, ann, bob


def card_named(title: str) -> Card:
    return db.session.scalar(select(Card).where(Card.title == title))


def test_anonymous_visitors_are_sent_to_log_in(client, team):
    response = client.get("/boards/SIM")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_wrong_password_says_so(client, team):
    response = client.post("/login", data={"username": "ann", "password": "nope"})
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)


def test_non_member_gets_not_found_for_board_and_card(client, login, team):
    board, ann, _ = team
    card = make.card(board, ann, "secret work")
    login("olga")
    assert client.get("/boards/SIM").status_code == 404
    assert client.get(f"/cards/{card.key}").status_code == 404
    page = client.get("/").get_data(as_text=True)
    assert "SIM" not in page


def test_viewer_sees_the_board_but_cannot_add_or_move(client, login, team):
    board, ann, _ = team
    card = make.card(board, ann, "look only")
    login("vic")
    page = client.get("/boards/SIM").get_data(as_text=True)
    assert "look only" in page
    assert 'id="quick-add"' not in page
    refused = client.post("/boards/SIM/cards", data={"title": "sneaky"}, headers=HX)
    assert refused.status_code == 403
    assert "viewer" in refused.get_data(as_text=True)
    moved = client.post(f"/cards/{card.key}/move", data={"column": "Doing"}, headers=HX)
    assert moved.status_code == 403
    assert card_named("sneaky") is None
    db.session.refresh(card)
    assert card.column.name == "To do"


def test_member_quick_adds_and_gets_the_board_back(client, login, team):
    login("bob")
    response = client.post("/boards/SIM/cards", data={"title": "Printer on fire"}, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="board"' in html and "Printer on fire" in html and "Created SIM-1" in html
    assert "<html" not in html


def test_empty_title_is_refused_with_a_message_in_the_message_area(client, login, team):
    login("bob")
    response = client.post("/boards/SIM/cards", data={"title": "   "}, headers=HX)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#flash"
    assert "Title cannot be empty" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, login, team):
    login("bob")
    response = client.post(
        "/boards/SIM/cards", data={"title": "forged"}, headers={**HX, "X-CSRFToken": "forged"}
    )
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert card_named("forged") is None


def test_script_in_a_title_is_shown_as_text(client, login, team):
    board, ann, _ = team
    make.card(board, ann, "<script>alert('x')</script>")
    login("ann")
    page = client.get("/boards/SIM").get_data(as_text=True)
    assert "<script>alert('x')</script>" not in page
    assert "&lt;script&gt;alert(" in page


def test_markdown_description_is_sanitised_on_the_card_page(client, login, team):
    board, ann, _ = team
    card = make.card(
        board, ann, "md",
        description="**bold** <img src=x onerror=alert(1)> [x](javascript:alert(1))",
    )
    login("ann")
    page = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert "<strong>bold</strong>" in page
    assert "<img" not in page  # shown as inert text, never as an element
    assert 'href="javascript' not in page


def test_move_refused_by_hard_limit_answers_with_the_stored_board_and_the_reason(
    client, login, team
):
    board, ann, bob = team
    update_column(board, ann, make.column(board, "Doing"), wip_limit=1, wip_policy="hard")
    db.session.commit()
    make.card(board, ann, "in progress", column=make.column(board, "Doing"))
    waiting = make.card(board, ann, "waiting")
    login("bob")
    response = client.post(
        f"/cards/{waiting.key}/move",
        data={"column": make.column(board, "Doing").id, "version": waiting.version},
        headers=HX,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "at its WIP limit (1/1)" in html
    assert 'id="board"' in html  # the board as stored, so the dragged card snaps back
    db.session.refresh(waiting)
    assert waiting.column.name == "To do"


def test_hard_with_override_asks_for_a_reason_in_a_dialog(client, login, team):
    board, ann, _ = team
    update_column(board, ann, make.column(board, "Doing"), wip_limit=1,
                  wip_policy="hard-with-override")
    db.session.commit()
    make.card(board, ann, "in progress", column=make.column(board, "Doing"))
    waiting = make.card(board, ann, "waiting")
    login("bob")
    doing = make.column(board, "Doing").id
    asked = client.post(f"/cards/{waiting.key}/move", data={"column": doing}, headers=HX)
    assert asked.status_code == 422
    assert 'name="override_reason"' in asked.get_data(as_text=True)
    done = client.post(
        f"/cards/{waiting.key}/move",
        data={"column": doing, "override_reason": "Sev1 outage"},
        headers=HX,
    )
    assert done.status_code == 200
    db.session.refresh(waiting)
    assert waiting.column.name == "Doing"


def test_stale_edit_gets_409_and_the_current_card(client, login, team):
    board, ann, bob = team
    card = make.card(board, ann, "original")
    seen = card.version
    move_card(card, ann, column=make.column(board, "Doing"))
    db.session.commit()
    login("bob")
    response = client.post(
        f"/cards/{card.key}/edit", data={"title": "my overwrite", "version": seen}, headers=HX
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "original" in html and "changed by someone else" in html
    db.session.refresh(card)
    assert card.title == "original"


def test_filter_in_the_url_shows_matching_cards_and_real_wip(client, login, team):
    board, ann, _ = team
    make.card(board, ann, "VPN drops")
    make.card(board, ann, "Printer jam")
    login("ann")
    page = client.get("/boards/SIM?q=vpn").get_data(as_text=True)
    assert "VPN drops" in page and "Printer jam" not in page
    assert "Showing 1 of 2 cards" in page


def test_board_fragment_for_htmx_target(client, login, team):
    login("ann")
    response = client.get("/boards/SIM", headers={**HX, "HX-Target": "board"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("{#") is False
    assert 'id="board"' in html and "<html" not in html


def test_owner_manages_columns_and_members_in_settings(client, login, team):
    board, ann, _ = team
    login("ann")
    added = client.post("/boards/SIM/columns", data={"name": "Review", "kind": "queue"},
                        headers=HX)
    assert added.status_code == 200 and "Review" in added.get_data(as_text=True)
    make.card(board, ann, "in review", column=make.column(board, "Review"))
    review = make.column(board, "Review")
    refused = client.post(f"/boards/SIM/columns/{review.id}/delete", headers=HX)
    assert refused.status_code == 422
    assert "still holds 1 card" in refused.get_data(as_text=True)
    negative = client.post(f"/boards/SIM/columns/{review.id}", data={"wip_limit": "-2"},
                           headers=HX)
    assert negative.status_code == 422
    member = client.post("/boards/SIM/members", data={"username": "olga", "role": "member"},
                         headers=HX)
    assert member.status_code == 200 and "olga is now a member" in member.get_data(as_text=True)


def test_member_cannot_open_settings(client, login, team):
    login("bob")
    assert client.get("/boards/SIM/settings").status_code == 403


def test_my_work_lists_the_cards_i_own_across_boards(client, login, team):
    board, ann, bob = team
    other = make.board(bob, "simple", key="OPS")
    make.card(board, ann, "bob's card on SIM", owner="bob")
    make.card(other, bob, "bob's card on OPS", owner="bob")
    make.card(board, ann, "ann's card", owner="ann")
    login("bob")
    page = client.get("/").get_data(as_text=True)
    assert "bob&#39;s card on SIM" in page and "bob&#39;s card on OPS" in page
    assert "ann&#39;s card" not in page


def test_card_detail_shows_its_history(client, login, team):
    board, ann, _ = team
    card = make.card(board, ann, "history")
    move_card(card, ann, column=make.column(board, "Doing"))
    db.session.commit()
    login("ann")
    page = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert "created it in To do" in page
    assert "moved it To do → Doing" in page


def test_block_and_unblock_from_the_card(client, login, team):
    board, ann, _ = team
    card = make.card(board, ann, "needs vendor")
    login("bob")
    blocked = client.post(f"/cards/{card.key}/block", data={"reason": "Waiting for vendor"},
                          headers=HX)
    assert blocked.status_code == 200
    assert "Blocked: Waiting for vendor" in blocked.get_data(as_text=True)
    assert blocked.headers["HX-Trigger"] == "boardChanged"
    unblocked = client.post(f"/cards/{card.key}/unblock", headers=HX)
    assert unblocked.status_code == 200
    db.session.refresh(card)
    assert not card.blocked


def test_done_column_shows_recent_finishes_and_counts_the_rest(client, login, team):
    from datetime import timedelta

    from app.clock import utcnow

    board, ann, _ = team
    done = make.column(board, "Done")
    long_ago = utcnow() - timedelta(days=30)
    for number in range(3):
        old = make.card(board, ann, f"finished long ago {number}", at=long_ago)
        move_card(old, ann, column=done, at=long_ago)
    fresh = make.card(board, ann, "finished today")
    move_card(fresh, ann, column=done)
    db.session.commit()
    login("ann")
    page = client.get("/boards/SIM").get_data(as_text=True)
    assert "finished today" in page
    assert "finished long ago" not in page
    assert "+ 3 finished earlier" in page
    assert 'data-testid="wip-' in page and ">4</span>" in page  # the counter still counts all


def test_archived_cards_are_listed_and_can_be_restored(client, login, team):
    from app.cards.services import archive_card

    board, ann, _ = team
    card = make.card(board, ann, "old duplicate")
    archive_card(card, ann)
    db.session.commit()
    login("bob")
    assert "old duplicate" not in client.get("/boards/SIM").get_data(as_text=True)
    listing = client.get("/boards/SIM/archived").get_data(as_text=True)
    assert "old duplicate" in listing and "Restore" in listing
    restored = client.post(f"/cards/{card.key}/restore")
    assert restored.status_code == 302
    assert "old duplicate" in client.get("/boards/SIM").get_data(as_text=True)


def test_owner_adds_a_whole_team_to_the_board(client, login, team):
    from app.accounts.services import create_team, user_by_username

    create_team("Network", [user_by_username("olga"), user_by_username("bob")])
    db.session.commit()
    login("ann")
    response = client.post("/boards/SIM/teams", data={"team": "Network", "role": "member"},
                           headers=HX)
    assert response.status_code == 200
    assert "added olga" in response.get_data(as_text=True)
    login("olga")
    assert client.get("/boards/SIM").status_code == 200


def test_ids_beyond_what_the_database_holds_are_simply_not_found(client, login, simple):
    """A number past 2^31-1 in a path answered 500 on PostgreSQL (found by schemathesis)."""
    login("ann")
    for path in ("/swarms/9223372036854775808", "/inbox/2147483648/open",
                 "/api/v1/notifications/6509155068/read"):
        response = client.post(path) if path.endswith("/read") else client.get(path)
        assert response.status_code == 404, path


def test_numbers_past_the_database_in_keys_and_fields_are_refused_as_not_found(
    client, login, simple
):
    board, ann, _ = simple
    login("ann")
    huge = "9223372036854775808"
    assert client.get(f"/cards/SIM-{huge}").status_code == 404
    card = make.card(board, ann, "Printer jam")
    answer = client.post(f"/cards/{card.key}/edit", data={"title": "Printer jam", "owner": huge},
                         headers={"HX-Request": "true"})
    assert answer.status_code == 422
