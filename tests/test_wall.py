"""Wall links: owners make, change and revoke them in the board settings; the token opens a
read-only wall without a login (the board, the strip, andon banners, the stand-up focus), its
fragments and catch-up, and a socket; a revoked or unknown token opens nothing, at once."""

import json
import re

import pytest
from sqlalchemy import select

from app.boards.services import add_lane, board_lanes
from app.cards.models import Card
from app.cards.moves import move_card
from app.extensions import db
from app.standups.services import start_standup
from app.swarms.andon import pull_andon
from app.wall.models import WallLink
from app.wall.services import create_wall_link, wall_strip
from tests import factories as make
from tests.test_realtime import connect, received  # noqa: F401  (fixture)
from tests.test_standup_routes import logged_in

HX = {"HX-Request": "true"}
WALL_URL = re.compile(r'<code id="new-wall-url"[^>]*>https?://[^/]+(/wall/(sbw_[\w-]+))</code>')


@pytest.fixture
def wall_board(app, simple):
    """SIM (To do · Doing · Done; lanes Standard and Expedite) with a card in each of To do and
    Doing; ann owns it, bob is a member."""
    board, ann, bob = simple
    add_lane(board, ann, name="Expedite", class_of_service="expedite")
    db.session.commit()
    make.card(board, ann, "Waiting in the backlog")
    doing = make.card(board, ann, "Printer offline in Lyon")
    move_card(doing, ann, column=make.column(board, "Doing"))
    db.session.commit()
    return board, ann, bob


def printer_card() -> Card:
    return db.session.scalars(select(Card).where(Card.title == "Printer offline in Lyon")).one()


def ids(board):
    return ({c.name: c.id for c in board.columns}, {ln.name: ln.id for ln in board_lanes(board)})


def new_link(board, owner, name="Team TV", **options) -> str:
    _, token = create_wall_link(board, owner, name, **options)
    db.session.commit()
    return token


def create_by_form(browser, board, **fields):
    columns, lanes = ids(board)
    data = {"name": "Team room TV", "theme": "dark", "lanes": list(lanes.values()),
            "columns": list(columns.values()), **fields}
    return browser.post(f"/boards/{board.key}/walls", data=data, headers=HX)


# --- owners' side ------------------------------------------------------------------------------


def test_an_owner_creates_a_wall_link_and_sees_its_url_once(app, wall_board):
    board, ann, _ = wall_board
    owner = logged_in(app, "ann")
    response = create_by_form(owner, board)
    assert response.status_code == 200
    found = WALL_URL.search(response.get_data(as_text=True))
    assert found, "the new link's URL is shown"
    path, token = found.groups()

    wall = app.test_client().get(path)  # nobody logged in
    assert wall.status_code == 200
    page = wall.get_data(as_text=True)
    assert "Printer offline in Lyon" in page and 'class="wall theme-dark"' in page

    settings = owner.get(f"/boards/{board.key}/settings").get_data(as_text=True)
    assert token not in settings and "Team room TV" in settings
    stored = db.session.scalars(select(WallLink)).one()
    assert stored.token_hash != token and token not in (stored.prefix + stored.token_hash)


def test_a_member_cannot_make_or_revoke_wall_links(app, wall_board):
    board, ann, _ = wall_board
    token = new_link(board, ann)
    bob = logged_in(app, "bob")
    assert create_by_form(bob, board).status_code == 403
    link = db.session.scalars(select(WallLink)).one()
    assert bob.post(f"/boards/SIM/walls/{link.id}/revoke", headers=HX).status_code == 403
    assert app.test_client().get(f"/wall/{token}").status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Wall name cannot be empty."),
        ({"theme": "neon"}, "Theme must be one of: dark, light (got &#39;neon&#39;)."),
        ({"lanes": []}, "Choose at least one lane to show."),
        ({"columns": []}, "Choose at least one column to show."),
        ({"columns": ["999"]}, "This board has no column with id 999."),
        ({"lanes": ["two"]}, "The lanes to show must be ids (whole numbers); got &#39;two&#39;."),
    ],
)
def test_bad_wall_options_are_refused_with_a_sentence(app, wall_board, fields, message):
    board, _, _ = wall_board
    response = create_by_form(logged_in(app, "ann"), board, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(WallLink)).all() == []


def test_rotation_is_refused_through_a_board_the_owner_does_not_own(app, wall_board):
    board, ann, bob = wall_board
    bobs = make.board(bob, key="BOB", name="Bob's board")
    theirs = make.board(bob, key="OWN", name="Shared board")
    make.member(theirs, ann, "member")
    owner = logged_in(app, "ann")
    for other in (bobs, theirs):
        response = create_by_form(owner, board, rotate=[other.id], rotate_seconds="60")
        assert response.status_code == 422
        assert "A wall can rotate only through boards you own" in response.get_data(as_text=True)


def test_rotation_seconds_must_be_between_15_and_3600(app, wall_board):
    board, ann, _ = wall_board
    other = make.board(ann, key="TWO", name="Second team")
    owner = logged_in(app, "ann")
    for seconds in ("5", "7200", "soon"):
        response = create_by_form(owner, board, rotate=[other.id], rotate_seconds=seconds)
        assert response.status_code == 422
        assert "Seconds per board must be" in response.get_data(as_text=True)
    assert create_by_form(owner, board, rotate=[other.id], rotate_seconds="30").status_code == 200
    link = db.session.scalars(select(WallLink)).one()
    assert (link.rotate_board_ids, link.rotate_seconds) == ([other.id], 30)


def test_a_rotating_wall_shows_each_board_in_turn(app, wall_board):
    board, ann, _ = wall_board
    other = make.board(ann, key="TWO", name="Second team")
    make.card(other, ann, "Second team's ticket")
    token = new_link(board, ann, rotate_board_ids=[other.id], rotate_seconds=20)
    wall = app.test_client()
    page = wall.get(f"/wall/{token}").get_data(as_text=True)
    assert 'data-boards="SIM,TWO"' in page and 'data-rotate-seconds="20"' in page
    fragment = wall.get(f"/wall/{token}/board/TWO", headers=HX)
    assert fragment.status_code == 200
    assert "Second team&#39;s ticket" in fragment.get_data(as_text=True)
    missing = wall.get(f"/wall/{token}/board/NOPE", headers=HX)
    assert missing.status_code == 404
    assert missing.get_json()["message"] == "This wall does not show a board NOPE."


def test_choosing_every_lane_and_column_keeps_showing_what_is_added_later(app, wall_board):
    board, _, _ = wall_board
    assert create_by_form(logged_in(app, "ann"), board).status_code == 200
    link = db.session.scalars(select(WallLink)).one()
    assert link.lane_ids is None and link.column_ids is None


def test_a_wall_of_some_lanes_and_columns_shows_only_those(app, wall_board):
    board, ann, _ = wall_board
    columns, lanes = ids(board)
    token = new_link(board, ann, column_ids=[columns["Doing"], columns["Done"]],
                     lane_ids=[lanes["Standard"]])
    page = app.test_client().get(f"/wall/{token}").get_data(as_text=True)
    heads = re.findall(r'id="col-head-(\d+)"', page)
    assert heads == [str(columns["Doing"]), str(columns["Done"])]
    assert re.findall(r'id="lane-head-(\d+)"', page) == [str(lanes["Standard"])]
    assert "Printer offline in Lyon" in page and "Waiting in the backlog" not in page
    assert 'data-partial="1"' in page


def test_changing_a_link_tells_its_open_walls(app, wall_board, connect):  # noqa: F811
    board, ann, _ = wall_board
    token = new_link(board, ann)
    link = db.session.scalars(select(WallLink)).one()
    socket = connect(auth={"wall": token})
    socket.get_received()
    response = logged_in(app, "ann").post(
        f"/boards/SIM/walls/{link.id}", headers=HX,
        data={"name": "Corridor", "theme": "light", "lanes": [ln.id for ln in board_lanes(board)],
              "columns": [c.id for c in board.columns]})
    assert response.status_code == 200
    assert received(socket, "wall_changed") == [{"wall": link.id}]
    assert 'class="wall theme-light"' in app.test_client().get(f"/wall/{token}").get_data(
        as_text=True)


# --- tokens, revocation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token", ["sbw_not-a-real-token", "nothing-like-a-token", "sbw_" + "x" * 200])
def test_an_unknown_wall_token_gets_a_page_that_says_so(app, wall_board, token):
    response = app.test_client().get(f"/wall/{token}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This wall link is unknown or has been revoked." in page
    assert "Ask a board owner for a new wall link" in page
    assert response.headers["Cache-Control"] == "no-store"


def test_revoking_a_link_closes_its_wall_and_socket_at_once(app, wall_board, connect):  # noqa: F811
    board, ann, _ = wall_board
    token = new_link(board, ann)
    link = db.session.scalars(select(WallLink)).one()
    socket = connect(auth={"wall": token})
    assert socket.emit("join", {"board": "SIM"}, callback=True)["ok"]
    socket.get_received()

    response = logged_in(app, "ann").post(f"/boards/SIM/walls/{link.id}/revoke", headers=HX)
    assert response.status_code == 200
    assert "revoked" in response.get_data(as_text=True)

    assert not socket.is_connected()
    wall = app.test_client()
    for path in ("", "/board/SIM", "/strip/SIM", "/live/SIM?since=0"):
        answer = wall.get(f"/wall/{token}{path}", headers=HX if path else {})
        assert answer.status_code == 404, path
    assert "unknown or has been revoked" in wall.get(f"/wall/{token}").get_data(as_text=True)
    assert not connect(auth={"wall": token}).is_connected()


def test_a_wall_socket_follows_its_board_only(app, wall_board, connect):  # noqa: F811
    board, ann, _ = wall_board
    make.board(ann, key="PRV", name="Private")
    token = new_link(board, ann)
    socket = connect(auth={"wall": token})
    ack = socket.emit("join", {"board": "SIM"}, callback=True)
    assert ack["ok"] and ack["seq"] == board.last_seq
    refused = socket.emit("join", {"board": "PRV"}, callback=True)
    assert refused == {"ok": False, "error": "This wall does not show a board PRV."}
    socket.get_received()

    card = make.card(board, ann, "Fresh from the phone")
    messages = received(socket)
    assert [m["seq"] for m in messages] == [board.last_seq]
    assert "Fresh from the phone" in messages[0]["html"]
    assert card.key in messages[0]["html"]


# --- what the wall shows -----------------------------------------------------------------------


def test_the_strip_counts_finished_today_and_wip(app, wall_board):
    board, ann, _ = wall_board
    token = new_link(board, ann)
    doing = printer_card()
    strip = app.test_client().get(f"/wall/{token}/strip/SIM", headers=HX).get_data(as_text=True)
    assert re.search(r'data-figure="finished">0<', strip)
    assert re.search(r'data-figure="wip">1<', strip)
    move_card(doing, ann, column=make.column(board, "Done"))
    db.session.commit()
    strip = app.test_client().get(f"/wall/{token}/strip/SIM", headers=HX).get_data(as_text=True)
    assert re.search(r'data-figure="finished">1<', strip)
    assert re.search(r'data-figure="wip">0<', strip)
    assert wall_strip(board).finished_today == 1


def test_the_wall_shows_andon_banners(app, wall_board):
    board, ann, _ = wall_board
    token = new_link(board, ann)
    card = printer_card()
    pull_andon(card, ann, "Whole floor cannot print")
    db.session.commit()
    page = app.test_client().get(f"/wall/{token}").get_data(as_text=True)
    banner = re.search(r'<li class="andon-banner">(.*?)</li>', page, re.S).group(1)
    assert card.key in banner and "Whole floor cannot print" in banner
    # The dash before the reason is the stylesheet's (as on the board page), not the text's:
    # both at once read "— — Whole floor…" on the TV.
    assert '<span class="andon-why">Whole floor cannot print</span>' in banner


def test_the_wall_shows_the_stand_up_focus(app, wall_board):
    board, ann, _ = wall_board
    token = new_link(board, ann)
    standup = start_standup(board, ann)
    db.session.commit()
    focus = standup.focus_card
    page = app.test_client().get(f"/wall/{token}").get_data(as_text=True)
    assert f'data-focus-card="{focus.key}"' in page
    assert f"#card-{focus.key} {{ outline" in page
    # A rotation's fragment carries the strip too.
    fragment = app.test_client().get(f"/wall/{token}/board/SIM", headers=HX)
    assert f'data-focus-card="{focus.key}"' in fragment.get_data(as_text=True)


def test_a_wall_polls_the_catch_up_through_its_token(app, wall_board):
    board, ann, _ = wall_board
    token = new_link(board, ann)
    since = board.last_seq
    card = make.card(board, ann, "Arrived while polling")
    wall = app.test_client()
    answer = wall.get(f"/wall/{token}/live/SIM?since={since}", headers=HX)
    assert answer.status_code == 200
    assert card.key in answer.get_data(as_text=True)
    caught_up = json.loads(answer.headers["HX-Trigger-After-Swap"])["board-caught-up"]
    assert caught_up == {"seq": board.last_seq, "refresh": False}
    bad = wall.get(f"/wall/{token}/live/SIM?since=soon", headers={"Accept": "application/json"})
    assert bad.status_code == 422
