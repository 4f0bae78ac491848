"""The swarming pages of a board: dispatch, drop-in (experts available now, joining a running
swarm) and the knowledge search over resolved swarms."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.services import create_team, set_skill
from app.boards.models import Board
from app.boards.services import update_board, update_column
from app.clock import utcnow
from app.extensions import db
from app.swarms.experts import set_available
from app.swarms.services import resolve_swarm, start_swarm
from tests import factories as make

HX = {"HX-Request": "true"}


@pytest.fixture
def desk(app):
    """SUP owned by ann (team "Desk": ann, bob); bob a member, vic a viewer; olga on no board
    of theirs, with her own board OLG."""
    ann = make.user("ann", display_name="Ann Lee")
    bob = make.user("bob", display_name="Bob Ray")
    vic = make.user("vic")
    olga = make.user("olga", display_name="Olga Berg")
    team = create_team("Desk", [ann, bob])
    board = make.board(ann, "restoration", key="SUP", team=team)
    make.member(board, bob)
    make.member(board, vic, "viewer")
    make.board(olga, "simple", key="OLG")
    return board, ann, bob, vic, olga


def swarm_on(board, actor, title, skills=("dns",), help_needed="Names do not resolve"):
    card = make.card(board, actor, title)
    swarm = start_swarm(card, actor, type="backlog", help_needed=help_needed, skills=list(skills))
    db.session.commit()
    return swarm


# --- dispatch page ---------------------------------------------------------------------------


def test_dispatch_page_lists_incoming_work_with_what_each_record_lacks(client, login, desk):
    board, ann, *_ = desk
    make.card(board, ann, "Wifi down on floor 3", type="incident", impact="high", urgency="high")
    login("bob")
    page = client.get("/boards/SUP/dispatch").get_data(as_text=True)
    assert "Wifi down on floor 3" in page
    assert re.search(r'class="lacks">[^<]*<span[^>]*>✗</span> The affected service', page)
    assert re.search(r'class="has">[^<]*<span[^>]*>✓</span> Impact and urgency assessed', page)
    assert "Take it" in page


def test_take_it_on_the_page_answers_with_the_queue_and_a_message(client, login, desk):
    board, ann, bob, *_ = desk
    card = make.card(board, ann, "Reset my password")
    login("bob")
    response = client.post(f"/boards/SUP/dispatch/{card.key}/take", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="dispatch-queue"' in html and "SUP-1 is yours, in Acknowledged." in html
    assert "Reset my password" not in html.split("hx-swap-oob")[0]
    db.session.refresh(card)
    assert card.owner == bob


def test_a_wip_refusal_on_take_shows_the_sentence(client, login, desk):
    board, ann, *_ = desk
    acknowledged = board.columns[1]
    update_column(board, ann, acknowledged, wip_limit=1, wip_policy="hard")
    db.session.commit()
    make.card(board, ann, "There", column=acknowledged)
    card = make.card(board, ann, "Waiting")
    login("bob")
    response = client.post(f"/boards/SUP/dispatch/{card.key}/take", headers=HX)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#flash"
    assert "at its WIP limit (1/1)" in response.get_data(as_text=True)
    db.session.refresh(card)
    assert card.owner is None and card.column == board.columns[0]


def test_routing_from_the_page(client, login, desk):
    board, ann, bob, *_ = desk
    card = make.card(board, ann, "Database slow")
    target = board.columns[3]
    login("ann")
    response = client.post(f"/boards/SUP/dispatch/{card.key}/route",
                           data={"column": target.id, "owner": "bob"}, headers=HX)
    assert response.status_code == 200
    assert "routed to Awaiting specialist, owned by Bob Ray" in response.get_data(as_text=True)
    db.session.refresh(card)
    assert (card.column, card.owner) == (target, bob)


def test_a_viewer_sees_the_queue_but_cannot_take(client, login, desk):
    board, ann, *_ = desk
    card = make.card(board, ann, "Look only")
    login("vic")
    page = client.get("/boards/SUP/dispatch").get_data(as_text=True)
    assert "Look only" in page and "Take it" not in page
    assert client.post(f"/boards/SUP/dispatch/{card.key}/take", headers=HX).status_code == 403


def test_the_board_shows_a_banner_while_a_dispatch_is_due(client, login, desk):
    board, ann, *_ = desk
    now = utcnow()  # the board is on UTC
    later = (now + timedelta(hours=3)).strftime("%H:%M")
    update_board(board, ann, dispatch_times=later)
    db.session.commit()
    login("ann")
    page = client.get("/boards/SUP").get_data(as_text=True)
    assert "Dispatch swarm due" not in page
    assert 'href="/boards/SUP/dispatch"' in page and 'href="/boards/SUP/drop-in"' in page
    ten_minutes_ago = (now - timedelta(minutes=10)).strftime("%H:%M")
    update_board(board, ann, dispatch_times=f"{ten_minutes_ago}, {later}")
    db.session.commit()
    page = client.get("/boards/SUP").get_data(as_text=True)
    assert f"Dispatch swarm due</strong> — the {ten_minutes_ago} dispatch" in page


def test_owners_set_dispatch_times_in_the_settings(client, login, desk):
    board, *_ = desk
    login("ann")
    saved = client.post("/boards/SUP/settings", data={"dispatch_times": "16:00, 9:00"},
                        headers=HX)
    assert saved.status_code == 200 and 'value="09:00, 16:00"' in saved.get_data(as_text=True)
    refused = client.post("/boards/SUP/settings", data={"dispatch_times": "25:00"}, headers=HX)
    assert refused.status_code == 422
    assert "'25:00' is not a time like 09:00" in refused.get_data(as_text=True).replace(
        "&#39;", "'")
    db.session.refresh(board)
    assert board.dispatch_times == ["09:00", "16:00"]


# --- drop-in ---------------------------------------------------------------------------------


def test_drop_in_lists_available_experts_with_skills_load_and_team(client, login, desk):
    _, ann, bob, _, olga = desk
    set_skill(bob, "dns", 4)
    set_available(bob, True, "Free until 3 pm")
    set_skill(olga, "linux", 5)
    set_available(olga, True)
    db.session.commit()
    login("ann")
    page = client.get("/boards/SUP/drop-in").get_data(as_text=True)
    bob_part = page.split('aria-label="Bob Ray"')[1].split("</article>")[0]
    olga_part = page.split('aria-label="Olga Berg"')[1].split("</article>")[0]
    assert "Free until 3 pm" in bob_part and "dns <b>4</b>" in bob_part
    assert "0 in progress" in bob_part and "other team" not in bob_part
    assert "other team" in olga_part and "linux <b>5</b>" in olga_part


def test_a_member_joins_a_running_swarm_from_the_drop_in_panel(client, login, desk):
    board, ann, bob, *_ = desk
    swarm = swarm_on(board, ann, "DNS flaps")
    login("bob")
    page = client.get("/boards/SUP/drop-in").get_data(as_text=True)
    assert "DNS flaps" in page and "Names do not resolve" in page and "1 in it" in page
    response = client.post(f"/boards/SUP/drop-in/swarms/{swarm.id}/join")
    assert response.status_code == 302
    db.session.refresh(swarm)
    assert {s.user.username for s in swarm.present()} == {"ann", "bob"}
    assert "You are in it" in client.get("/boards/SUP/drop-in").get_data(as_text=True)
    again = client.post(f"/boards/SUP/drop-in/swarms/{swarm.id}/join", headers=HX)
    assert again.status_code == 422 and "already in this swarm" in again.get_data(as_text=True)


def test_a_viewer_may_watch_but_not_join(client, login, desk):
    board, ann, *_ = desk
    swarm = swarm_on(board, ann, "DNS flaps")
    login("vic")
    page = client.get("/boards/SUP/drop-in").get_data(as_text=True)
    assert "DNS flaps" in page and ">Join<" not in page
    response = client.post(f"/boards/SUP/drop-in/swarms/{swarm.id}/join", headers=HX)
    assert response.status_code == 403
    db.session.refresh(swarm)
    assert len(swarm.present()) == 1


def test_an_outsider_cannot_see_the_panel_or_join(client, login, desk):
    board, ann, *_ = desk
    swarm = swarm_on(board, ann, "DNS flaps")
    login("olga")
    assert client.get("/boards/SUP/drop-in").status_code == 404
    assert client.post(f"/boards/SUP/drop-in/swarms/{swarm.id}/join").status_code == 404
    assert client.post(f"/boards/OLG/drop-in/swarms/{swarm.id}/join").status_code == 404
    db.session.refresh(swarm)
    assert len(swarm.present()) == 1


# --- knowledge search ------------------------------------------------------------------------


def resolved(board, owner, title, skills, outcome, learned, continued_by=None):
    swarm = swarm_on(board, owner, title, skills=skills, help_needed=title)
    resolve_swarm(swarm, owner, continued_by=continued_by or owner.username, outcome=outcome,
                  learned=learned)
    db.session.commit()
    return swarm


def test_search_finds_resolved_swarms_by_words_and_skill(client, login, desk):
    board, ann, *_ = desk
    resolved(board, ann, "VPN drops every few hours", ["vpn", "networking"],
             "The concentrator's idle timeout was 8 h; raised to 12 h",
             "Idle timeouts look like random drops", continued_by="bob")
    resolved(board, ann, "Disk fills up", ["linux"], "Log rotation fixed", "Alert at 80%")
    login("bob")
    page = client.get("/swarms/search?q=timeout").get_data(as_text=True)
    assert "VPN drops every few hours" in page and "Disk fills up" not in page
    assert "Idle timeouts look like random drops" in page and "continued by" in page
    by_skill = client.get("/swarms/search?skill=linux").get_data(as_text=True)
    assert "Disk fills up" in by_skill and "VPN drops" not in by_skill
    none = client.get("/swarms/search?q=printer").get_data(as_text=True)
    assert "No resolved swarm on your boards matches" in none


def test_search_shows_only_boards_i_can_see(client, login, desk):
    board, ann, _, _, olga = desk
    olga_board = db.session.scalar(select(Board).where(Board.key == "OLG"))
    resolved(olga_board, olga, "Secret outage on OLG", ["dns"], "Fixed the resolver", "")
    resolved(board, ann, "Public outage on SUP", ["dns"], "Fixed the resolver", "")
    login("bob")
    page = client.get("/swarms/search?q=resolver").get_data(as_text=True)
    assert "Public outage on SUP" in page and "Secret outage on OLG" not in page
    login("olga")
    page = client.get("/swarms/search?q=resolver").get_data(as_text=True)
    assert "Secret outage on OLG" in page and "Public outage on SUP" not in page


def test_the_search_page_needs_a_login(client, desk):
    assert client.get("/swarms/search?q=x").status_code == 302
