"""The JSON API under /api/v1: tokens and sessions, boards, cards, moves, events, OpenAPI."""

from types import SimpleNamespace

import pytest

from app.accounts.services import create_token
from app.boards.services import add_lane
from app.boards.stream_templates import EMPTY_LANES, TEMPLATES
from app.extensions import db
from tests import factories as make


def bearer(user) -> dict:
    token = create_token(user, "tests")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def team(app):
    """ann owns SIM (To do · Doing · Done); bob is a member, vic a viewer, out is an outsider."""
    ann, bob, vic, out = (make.user(name) for name in ("ann", "bob", "vic", "out"))
    board = make.board(ann, "simple", key="SIM", name="Service desk")
    make.member(board, bob)
    make.member(board, vic, "viewer")
    auth = {u.username: bearer(u) for u in (ann, bob, vic, out)}
    return SimpleNamespace(board=board, ann=ann, auth=auth)


def column_id(client, auth, board_key: str, name: str) -> int:
    columns = client.get(f"/api/v1/boards/{board_key}", headers=auth).get_json()["columns"]
    return next(c["id"] for c in columns if c["name"] == name)


# --- who is asking -------------------------------------------------------------------------


def test_a_token_lists_my_boards_with_my_role_on_each(client, team):
    auth = team.auth
    make.member(make.board(make.user("zed"), "simple", key="ZED"), team.ann, "viewer")

    response = client.get("/api/v1/boards", headers=auth["ann"])

    assert response.status_code == 200
    assert {(b["key"], b["role"]) for b in response.get_json()} == {
        ("SIM", "owner"),
        ("ZED", "viewer"),
    }
    assert client.get("/api/v1/boards", headers=auth["out"]).get_json() == []


def test_a_bad_or_missing_token_is_401_json(client, team):
    bad = client.get("/api/v1/boards/SIM", headers={"Authorization": "Bearer sb_not-a-token"})
    missing = client.get("/api/v1/boards/SIM")

    for response in (bad, missing):
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"
        assert response.get_json()["message"].endswith(".")
    assert "revoked" in bad.get_json()["message"]


def test_a_session_write_needs_the_csrf_token_and_a_token_write_does_not(client, login, team):
    make.user("sam")
    login("sam")

    refused = client.post(
        "/api/v1/boards", json={"name": "Ops", "key": "OPS"}, headers={"X-CSRFToken": "forged"}
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "csrf"
    assert client.get("/api/v1/boards").get_json() == []

    accepted = client.post("/api/v1/boards", json={"name": "Ops", "key": "OPS"})  # sends token
    assert accepted.status_code == 201
    assert [b["key"] for b in client.get("/api/v1/boards").get_json()] == ["OPS"]

    auth = team.auth
    by_token = client.post(
        "/api/v1/boards", json={"name": "Net", "key": "NET"}, headers=auth["bob"]
    )
    assert by_token.status_code == 201


# --- boards --------------------------------------------------------------------------------


@pytest.mark.parametrize("template", [*TEMPLATES, None])
def test_create_a_board_from_each_template_or_empty(client, team, template):
    auth = team.auth
    response = client.post(
        "/api/v1/boards",
        json={"name": "New stream", "key": "NEW", "template": template},
        headers=auth["bob"],
    )
    assert response.status_code == 201
    assert response.get_json() == {
        "key": "NEW",
        "name": "New stream",
        "description": "",
        "timezone": "UTC",
        "role": "owner",
    }

    board = client.get("/api/v1/boards/new", headers=auth["bob"]).get_json()
    expected = [name for name, *_ in TEMPLATES[template]["columns"]] if template else []
    assert [c["name"] for c in board["columns"]] == expected
    first_committed = next((c["id"] for c in board["columns"] if c["kind"] != "backlog"), None)
    assert board["commitment_point"] == first_committed
    lanes = TEMPLATES[template]["lanes"] if template else EMPTY_LANES
    assert [lane["name"] for lane in board["lanes"]] == [name for name, *_ in lanes]
    assert board["last_seq"] == 1  # board.created


def test_a_taken_board_key_is_refused_with_a_sentence(client, team):
    auth = team.auth
    response = client.post(
        "/api/v1/boards", json={"name": "Dup", "key": "sim"}, headers=auth["bob"]
    )
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "invalid",
        "message": "The key SIM is taken by another board.",
    }


def test_the_board_shows_columns_with_wip_state_and_cards_in_order(client, team):
    board, ann, auth = team.board, team.ann, team.auth
    first = make.card(board, ann, "first", impact="high", urgency="high", owner=ann)
    make.card(board, ann, "second")
    client.patch(
        f"/api/v1/boards/SIM/columns/{column_id(client, auth['ann'], 'SIM', 'To do')}",
        json={"wip_limit": 2, "wip_policy": "soft"},
        headers=auth["ann"],
    )

    shown = client.get("/api/v1/boards/SIM", headers=auth["vic"]).get_json()

    to_do = shown["columns"][0]
    assert (to_do["name"], to_do["count"], to_do["wip_limit"], to_do["wip_state"]) == (
        "To do",
        2,
        2,
        "at",
    )
    assert shown["role"] == "viewer"
    assert [c["key"] for c in shown["cards"]] == ["SIM-1", "SIM-2"]
    card = shown["cards"][0]
    assert card["key"] == first.key
    assert (card["priority"], card["owner"], card["blocked"], card["version"]) == (
        "P1",
        "ann",
        False,
        1,
    )
    assert card["column"] == to_do["id"]
    events = client.get("/api/v1/boards/SIM/events", headers=auth["vic"]).get_json()["events"]
    assert shown["last_seq"] == events[-1]["seq"]
    assert events[-1]["type"] == "column.updated"


# --- columns and members -------------------------------------------------------------------


def test_owner_adds_and_changes_columns_members_cannot(client, team):
    auth = team.auth
    added = client.post(
        "/api/v1/boards/SIM/columns",
        json={"name": "Review", "kind": "queue", "position": 2, "wip_limit": 3},
        headers=auth["ann"],
    )
    assert added.status_code == 201
    review = added.get_json()
    assert (review["name"], review["position"], review["wip_policy"]) == ("Review", 2, "soft")
    columns = client.get("/api/v1/boards/SIM", headers=auth["ann"]).get_json()["columns"]
    assert [c["name"] for c in columns] == ["To do", "Doing", "Review", "Done"]

    changed = client.patch(
        f"/api/v1/boards/SIM/columns/{review['id']}",
        json={"wip_policy": "hard", "done_checklist": ["Peer reviewed", "Tests pass"]},
        headers=auth["ann"],
    )
    assert changed.status_code == 200
    assert changed.get_json()["done_checklist"] == ["Peer reviewed", "Tests pass"]

    bad_limit = client.patch(
        f"/api/v1/boards/SIM/columns/{review['id']}", json={"wip_limit": 0}, headers=auth["ann"]
    )
    assert bad_limit.status_code == 422
    assert "WIP limit" in bad_limit.get_json()["message"]

    by_member = client.post("/api/v1/boards/SIM/columns", json={"name": "X"}, headers=auth["bob"])
    assert by_member.status_code == 403
    assert (
        client.patch(
            "/api/v1/boards/SIM/columns/99999", json={"name": "Y"}, headers=auth["ann"]
        ).status_code
        == 404
    )


def test_owner_adds_a_member_who_can_then_see_the_board(client, team):
    auth = team.auth
    assert client.get("/api/v1/boards/SIM", headers=auth["out"]).status_code == 404

    added = client.post(
        "/api/v1/boards/SIM/members",
        json={"username": "out", "role": "member"},
        headers=auth["ann"],
    )

    assert added.status_code == 200
    assert added.get_json() == {"username": "out", "display_name": "out", "role": "member"}
    assert client.get("/api/v1/boards/SIM", headers=auth["out"]).status_code == 200
    by_member = client.post(
        "/api/v1/boards/SIM/members", json={"username": "vic", "role": "owner"}, headers=auth["bob"]
    )
    assert by_member.status_code == 403


# --- cards ---------------------------------------------------------------------------------


def test_quick_add_needs_only_a_title(client, team):
    auth = team.auth
    response = client.post(
        "/api/v1/boards/SIM/cards", json={"title": "VPN down"}, headers=auth["bob"]
    )

    assert response.status_code == 201
    card = response.get_json()
    assert (card["key"], card["title"], card["priority"], card["owner"]) == (
        "SIM-1",
        "VPN down",
        "P3",
        None,
    )
    assert card["created_at"].endswith("Z")  # UTC, as in the event log
    board = client.get("/api/v1/boards/SIM", headers=auth["bob"]).get_json()
    standard = next(lane["id"] for lane in board["lanes"] if lane["class_of_service"] == "standard")
    assert (card["column"], card["lane"]) == (board["columns"][0]["id"], standard)


def test_a_card_can_be_added_with_its_details_by_column_and_lane_name(client, team):
    auth = team.auth
    response = client.post(
        "/api/v1/boards/SIM/cards",
        json={
            "title": "Payroll export fails",
            "column": "doing",
            "lane": "standard",
            "type": "incident",
            "impact": "high",
            "urgency": "medium",
            "owner": "bob",
            "due_date": "2030-01-31",
            "tags": ["Payroll", "export"],
            "required_skills": ["sql"],
        },
        headers=auth["bob"],
    )
    assert response.status_code == 201
    card = response.get_json()
    board = client.get("/api/v1/boards/SIM", headers=auth["bob"]).get_json()
    assert card["column"] == next(c["id"] for c in board["columns"] if c["name"] == "Doing")
    assert card["lane"] == board["lanes"][0]["id"]
    assert (card["priority"], card["owner"], card["due_date"], card["tags"]) == (
        "P2",
        "bob",
        "2030-01-31",
        ["payroll", "export"],
    )
    assert card["started_at"] is not None


def test_the_card_detail_holds_checklist_links_and_history(client, team):
    board, ann, auth = team.board, team.ann, team.auth
    from app.cards.services import add_checklist_item, link_cards

    card = make.card(board, ann, "Restore mail")
    other = make.card(board, ann, "Mail relay certificate")
    add_checklist_item(card, ann, "Tell the users")
    link_cards(card, ann, "blocked_by", other.key)
    db.session.commit()
    client.post("/api/v1/cards/SIM-1/block", json={"reason": "Vendor"}, headers=auth["bob"])

    detail = client.get("/api/v1/cards/sim-1", headers=auth["vic"]).get_json()

    assert [item["text"] for item in detail["checklist"]] == ["Tell the users"]
    assert [(ln["relation"], ln["card"]) for ln in detail["links"]] == [("is blocked by", "SIM-2")]
    assert [e["type"] for e in detail["history"]] == [
        "card.created",
        "card.checklist",
        "card.linked",
        "card.blocked",
    ]
    assert {e["card"] for e in detail["history"]} == {"SIM-1"}
    assert detail["blocked_reason"] == "Vendor"


def test_edit_a_card_and_a_stale_version_is_409_with_the_current_card(client, team):
    board, ann, auth = team.board, team.ann, team.auth
    make.card(board, ann, "Laptop for new starter")

    edited = client.patch(
        "/api/v1/cards/SIM-1",
        json={"version": 1, "impact": "high", "urgency": "high", "owner": "bob"},
        headers=auth["bob"],
    )
    assert edited.status_code == 200
    assert (edited.get_json()["priority"], edited.get_json()["version"]) == ("P1", 2)

    stale = client.patch(
        "/api/v1/cards/SIM-1", json={"version": 1, "title": "Overwrite"}, headers=auth["ann"]
    )
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "stale_version"
    assert (body["card"]["title"], body["card"]["version"]) == ("Laptop for new starter", 2)

    stale_move = client.post(
        "/api/v1/cards/SIM-1/move", json={"column": "Doing", "version": 1}, headers=auth["ann"]
    )
    assert stale_move.status_code == 409
    assert stale_move.get_json()["card"]["column"] == column_id(client, auth["ann"], "SIM", "To do")


def test_block_and_unblock_a_card(client, team):
    board, ann, auth = team.board, team.ann, team.auth
    make.card(board, ann)

    blocked = client.post(
        "/api/v1/cards/SIM-1/block", json={"reason": "Waiting for vendor"}, headers=auth["bob"]
    )
    assert blocked.status_code == 200
    assert (blocked.get_json()["blocked"], blocked.get_json()["blocked_reason"]) == (
        True,
        "Waiting for vendor",
    )
    again = client.post("/api/v1/cards/SIM-1/block", json={"reason": "x"}, headers=auth["bob"])
    assert again.status_code == 422
    assert "already blocked" in again.get_json()["message"]

    unblocked = client.post("/api/v1/cards/SIM-1/unblock", headers=auth["bob"])
    assert unblocked.status_code == 200
    assert unblocked.get_json()["blocked"] is False


# --- moves ---------------------------------------------------------------------------------


def test_a_move_past_a_hard_with_override_limit_needs_a_reason(client, team):
    board, ann, auth = team.board, team.ann, team.auth
    for title in ("one", "two"):
        make.card(board, ann, title)
    doing = column_id(client, auth["ann"], "SIM", "Doing")
    client.patch(
        f"/api/v1/boards/SIM/columns/{doing}",
        json={"wip_limit": 1, "wip_policy": "hard-with-override"},
        headers=auth["ann"],
    )
    assert (
        client.post(
            "/api/v1/cards/SIM-1/move", json={"column": doing}, headers=auth["bob"]
        ).status_code
        == 200
    )

    refused = client.post("/api/v1/cards/SIM-2/move", json={"column": "Doing"}, headers=auth["bob"])
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "wip_limit"
    assert refused.get_json()["needs_reason"] is True
    assert client.get("/api/v1/cards/SIM-2", headers=auth["bob"]).get_json()["column"] != doing

    overridden = client.post(
        "/api/v1/cards/SIM-2/move",
        json={"column": "Doing", "override_reason": "Major incident", "version": 1},
        headers=auth["bob"],
    )
    assert overridden.status_code == 200
    assert overridden.get_json()["column"] == doing
    events = client.get("/api/v1/boards/SIM/events", headers=auth["bob"]).get_json()["events"]
    assert events[-1]["type"] == "wip.overridden"
    assert events[-1]["data"]["reason"] == "Major incident"


def test_a_move_past_a_hard_limit_cannot_be_overridden(client, team):
    board, ann, auth = team.board, team.ann, team.auth
    make.card(board, ann, "one")
    make.card(board, ann, "two")
    doing = column_id(client, auth["ann"], "SIM", "Doing")
    client.patch(
        f"/api/v1/boards/SIM/columns/{doing}",
        json={"wip_limit": 1, "wip_policy": "hard"},
        headers=auth["ann"],
    )
    client.post("/api/v1/cards/SIM-1/move", json={"column": doing}, headers=auth["bob"])

    refused = client.post(
        "/api/v1/cards/SIM-2/move",
        json={"column": doing, "override_reason": "please"},
        headers=auth["bob"],
    )

    assert refused.status_code == 422
    assert (refused.get_json()["error"], refused.get_json()["needs_reason"]) == ("wip_limit", False)


def test_a_move_can_change_lane_and_position(client, team):
    board, ann, auth = team.board, team.ann, team.auth
    for title in ("a", "b", "c"):
        make.card(board, ann, title)
    add_lane(board, ann, name="Expedite", class_of_service="expedite", wip_limit=1)
    db.session.commit()

    moved = client.post(
        "/api/v1/cards/SIM-3/move", json={"column": "To do", "position": 0}, headers=auth["bob"]
    )
    assert moved.status_code == 200
    cards = client.get("/api/v1/boards/SIM", headers=auth["bob"]).get_json()["cards"]
    assert [c["title"] for c in cards] == ["c", "a", "b"]

    to_expedite = client.post(
        "/api/v1/cards/SIM-1/move",
        json={"column": "Doing", "lane": "expedite"},
        headers=auth["bob"],
    )
    lanes = client.get("/api/v1/boards/SIM", headers=auth["bob"]).get_json()["lanes"]
    expedite = next(lane for lane in lanes if lane["name"] == "Expedite")
    assert to_expedite.get_json()["lane"] == expedite["id"]
    assert (expedite["count"], expedite["wip_state"]) == (1, "at")


# --- who may do what -----------------------------------------------------------------------


def test_a_viewer_reads_but_every_write_is_403(client, team):
    board, ann, auth = team.board, team.ann, team.auth
    make.card(board, ann)
    viewer = auth["vic"]

    assert client.get("/api/v1/cards/SIM-1", headers=viewer).status_code == 200
    writes = [
        client.post("/api/v1/boards/SIM/cards", json={"title": "x"}, headers=viewer),
        client.patch("/api/v1/cards/SIM-1", json={"title": "x"}, headers=viewer),
        client.post("/api/v1/cards/SIM-1/move", json={"column": "Doing"}, headers=viewer),
        client.post("/api/v1/cards/SIM-1/block", json={"reason": "x"}, headers=viewer),
        client.post("/api/v1/boards/SIM/columns", json={"name": "X"}, headers=viewer),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    assert {w.get_json()["error"] for w in writes} == {"forbidden"}
    assert client.get("/api/v1/cards/SIM-1", headers=viewer).get_json()["title"] == "A card"


def test_an_outsider_gets_404_not_403(client, team):
    board, ann, auth = team.board, team.ann, team.auth
    make.card(board, ann)
    outsider = auth["out"]

    answers = [
        client.get("/api/v1/boards/SIM", headers=outsider),
        client.get("/api/v1/boards/SIM/events", headers=outsider),
        client.get("/api/v1/cards/SIM-1", headers=outsider),
        client.patch("/api/v1/cards/SIM-1", json={"title": "x"}, headers=outsider),
        client.post("/api/v1/cards/SIM-1/move", json={"column": "Doing"}, headers=outsider),
        client.post("/api/v1/boards/SIM/cards", json={"title": "x"}, headers=outsider),
        client.post(
            "/api/v1/boards/SIM/members",
            json={"username": "out", "role": "owner"},
            headers=outsider,
        ),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert client.get("/api/v1/boards/NOPE", headers=outsider).get_json()["error"] == "not_found"


# --- invalid requests ----------------------------------------------------------------------


def test_invalid_fields_are_422_with_a_sentence_naming_the_field(client, team):
    auth = team.auth
    url = "/api/v1/boards/SIM/cards"

    unknown = client.post(url, json={"title": "x", "colour": "red"}, headers=auth["bob"])
    missing = client.post(url, json={"description": "no title"}, headers=auth["bob"])
    wrong_type = client.post(url, json={"title": "x", "tags": "a,b"}, headers=auth["bob"])
    bad_column = client.post(url, json={"title": "x", "column": ["Doing"]}, headers=auth["bob"])

    for response, field in [
        (unknown, "colour"),
        (missing, "title"),
        (wrong_type, "tags"),
        (bad_column, "column"),
    ]:
        body = response.get_json()
        assert response.status_code == 422
        assert body["error"] == "invalid"
        assert f"'{field}'" in body["message"]
        assert field in body["fields"]
    assert client.get("/api/v1/boards/SIM", headers=auth["bob"]).get_json()["cards"] == []


def test_malformed_json_is_refused_with_a_sentence(client, team):
    auth = team.auth
    response = client.post(
        "/api/v1/boards/SIM/cards",
        data="{title: nope",
        headers={**auth["bob"], "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == "The request body is not usable: Invalid JSON body."


# --- events --------------------------------------------------------------------------------


def test_events_since_a_sequence_number_with_card_keys(client, team):
    board, auth = team.board, team.auth
    before = board.last_seq
    client.post("/api/v1/boards/SIM/cards", json={"title": "Printer"}, headers=auth["bob"])
    client.post("/api/v1/cards/SIM-1/move", json={"column": "Doing"}, headers=auth["bob"])

    page = client.get(f"/api/v1/boards/sim/events?since={before}", headers=auth["vic"]).get_json()

    assert (page["board"], page["last_seq"], page["more"]) == ("SIM", before + 2, False)
    assert [(e["seq"], e["type"], e["card"], e["actor"]) for e in page["events"]] == [
        (before + 1, "card.created", "SIM-1", "bob"),
        (before + 2, "card.moved", "SIM-1", "bob"),
    ]
    everything = client.get("/api/v1/boards/SIM/events", headers=auth["vic"]).get_json()
    assert everything["events"][0]["type"] == "board.created"
    assert everything["events"][0]["card"] is None


@pytest.mark.parametrize("since", ["abc", "1.5", "", "-1", "2147483648", "9223372036854775808"])
def test_a_malformed_since_is_422(client, team, since):
    auth = team.auth
    response = client.get(f"/api/v1/boards/SIM/events?since={since}", headers=auth["bob"])
    assert response.status_code == 422
    assert "'since'" in response.get_json()["message"]


# --- the OpenAPI document ------------------------------------------------------------------


def test_the_openapi_document_describes_every_endpoint_and_the_bearer_scheme(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    assert spec["openapi"].startswith("3.")
    expected = {
        "/api/v1/boards": {"get", "post"},
        "/api/v1/boards/{key}": {"get"},
        "/api/v1/boards/{key}/columns": {"post"},
        "/api/v1/boards/{key}/columns/{column_id}": {"patch"},
        "/api/v1/boards/{key}/members": {"post"},
        "/api/v1/boards/{key}/cards": {"post"},
        "/api/v1/boards/{key}/events": {"get"},
        "/api/v1/cards/{card_key}": {"get", "patch"},
        "/api/v1/cards/{card_key}/move": {"post"},
        "/api/v1/cards/{card_key}/block": {"post"},
        "/api/v1/cards/{card_key}/unblock": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(spec["paths"][path]), path
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token, created on your account page.",
    }
    assert {"bearerAuth": []} in spec["security"]
    new_card = spec["components"]["schemas"]["NewCard"]
    assert new_card["required"] == ["title"]
    assert new_card["additionalProperties"] is False
    move = spec["paths"]["/api/v1/cards/{card_key}/move"]["post"]
    assert move["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StaleCard"
    }


def test_a_nul_character_in_any_text_is_refused_with_a_sentence_and_nothing_stored(
        client, login, team):
    """PostgreSQL cannot store one: found by the fuzzer as a 500 on creating a card."""
    answer = client.post("/api/v1/boards/SIM/cards", json={"title": "Printer\u0000 jam"},
                         headers=team.auth["ann"])
    assert answer.status_code == 422
    assert "NUL character" in answer.get_json()["message"]
    login("ann")
    page = client.post("/boards/SIM/cards", data={"title": "Printer\x00 jam"})
    assert page.status_code == 422 and "NUL character" in page.get_data(as_text=True)
    events = client.get("/api/v1/boards/SIM/events", headers=team.auth["ann"]).get_json()
    assert [e["type"] for e in events["events"] if e["type"].startswith("card.")] == []
