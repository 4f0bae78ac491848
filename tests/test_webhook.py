"""The andon webhook over HTTP: a board's secret token, a JSON body, JSON answers; and owners
managing the webhooks in the board settings."""

import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.cards.models import Card
from app.events.models import Event
from app.extensions import db
from app.swarms.andon import create_hook, revoke_hook
from app.swarms.models import AndonHook, Swarm
from tests import factories as make

HX = {"HX-Request": "true"}


@pytest.fixture
def ops(app):
    """OPS (restoration) owned by ann, bob a member; OTH another board of ann's."""
    ann, bob = make.user("ann"), make.user("bob")
    board = make.board(ann, "restoration", key="OPS")
    make.member(board, bob)
    other = make.board(ann, "simple", key="OTH")
    card = make.card(board, bob, "Checkout latency above 2 s")
    return board, other, card, ann, bob


def hook_token(board, owner, name="CI pipeline"):
    _, token = create_hook(board, owner, name)
    db.session.commit()
    return token


def pull(client, key, body, token=None, header="Authorization", **kwargs):
    headers = {}
    if token is not None:
        headers[header] = f"Bearer {token}" if header == "Authorization" else token
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(f"/hooks/andon/{key}", data=data, headers=headers,
                       content_type=kwargs.get("content_type", "application/json"))


def seq(board):
    db.session.expire_all()
    return db.session.get(type(board), board.id).last_seq


def card_count():
    return db.session.scalar(select(func.count(Card.id)))


def test_a_good_token_flags_the_card_and_opens_a_swarm(client, ops):
    board, _, card, ann, _ = ops
    token = hook_token(board, ann)
    response = pull(client, "OPS", {"card": card.key, "reason": "Smoke tests failed"}, token)
    assert response.status_code == 201
    answer = response.get_json()
    swarm = db.session.get(Swarm, answer["swarm"])
    assert answer == {"card": card.key, "swarm": swarm.id, "seq": seq(board)}
    db.session.refresh(card)
    assert card.andon_reason == "Smoke tests failed"
    assert swarm.type == "andon" and swarm.card_id == card.id


def test_the_token_may_come_in_its_own_header_and_open_a_new_card(client, ops):
    board, _, _, ann, _ = ops
    token = hook_token(board, ann, "Monitoring")
    response = pull(client, "ops", {"title": "Disk full on db-1", "reason": "95% used"}, token,
                    header="X-Swarmboard-Token")
    assert response.status_code == 201
    card = db.session.scalar(select(Card).where(Card.title == "Disk full on db-1"))
    assert response.get_json()["card"] == card.key
    assert card.lane.name == "Expedite" and card.andon_reason == "95% used"


def test_without_a_token_the_answer_is_401(client, ops):
    board, _, card, _, _ = ops
    before = seq(board)
    response = pull(client, "OPS", {"card": card.key, "reason": "x"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert "Authorization: Bearer" in response.get_json()["message"]
    assert seq(board) == before


@pytest.mark.parametrize("which", ["wrong", "revoked", "other board", "personal api token"])
def test_a_bad_token_is_refused_with_403_and_changes_nothing(client, ops, which):
    board, other, card, ann, _ = ops
    if which == "wrong":
        hook_token(board, ann)
        token = "sbh_not-the-token"
    elif which == "revoked":
        token = hook_token(board, ann)
        hook = db.session.scalar(select(AndonHook))
        revoke_hook(board, ann, hook.id)
        db.session.commit()
    elif which == "other board":
        token = hook_token(other, ann)
    else:
        from app.accounts.services import create_token

        token = create_token(ann)
        db.session.commit()
    before = seq(board)
    response = pull(client, "OPS", {"card": card.key, "reason": "x"}, token)
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "forbidden", "message": "That webhook token is not valid for this board."
    }
    assert seq(board) == before
    db.session.refresh(card)
    assert card.andon_at is None


def test_a_hook_whose_maker_left_the_board_is_refused(client, ops):
    board, _, card, ann, bob = ops
    from app.boards.services import remove_member, set_member

    set_member(board, ann, "bob", "owner")
    db.session.commit()
    token = hook_token(board, bob)
    remove_member(board, ann, "bob")
    db.session.commit()
    response = pull(client, "OPS", {"card": card.key, "reason": "x"}, token)
    assert response.status_code == 403
    assert "no longer on the board" in response.get_json()["message"]


def test_a_hook_whose_maker_was_deactivated_is_refused(client, ops):
    board, _, card, ann, bob = ops
    from app.boards.services import set_member

    set_member(board, ann, "bob", "owner")
    db.session.commit()
    token = hook_token(board, bob)
    bob.deactivated_at = bob.created_at
    db.session.commit()
    response = pull(client, "OPS", {"card": card.key, "reason": "x"}, token)
    assert response.status_code == 403
    assert "has been deactivated" in response.get_json()["message"]
    assert db.session.scalar(select(func.count()).select_from(Swarm)) == 0


def test_a_body_that_is_not_json_is_400_with_a_sentence(client, ops):
    board, _, _, ann, _ = ops
    token = hook_token(board, ann)
    before = seq(board)
    response = pull(client, "OPS", "card=OPS-1&reason=x", token,
                    content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("The body is not JSON")
    assert seq(board) == before


@pytest.mark.parametrize(
    "body, message",
    [
        ([1, 2], "must be a JSON object"),
        ({"card": "OPS-1"}, "reason must be text"),
        ({"card": "OPS-1", "reason": "  "}, "Andon reason cannot be empty"),
        ({"card": "OPS-1", "title": "x", "reason": "y"}, "not both"),
        ({"reason": "y"}, "Name an existing card"),
        ({"card": "OPS-1", "reason": "y", "severity": 1}, "Unknown field 'severity'"),
        ({"title": 42, "reason": "y"}, "title must be text"),
        ({"title": "", "reason": "y"}, "Title cannot be empty"),
        ({"card": "banana", "reason": "y"}, "card must be a card key like OPS-12"),
    ],
)
def test_a_malformed_body_is_422_with_a_sentence_and_changes_nothing(client, ops, body, message):
    board, _, _, ann, _ = ops
    token = hook_token(board, ann)
    before, cards = seq(board), card_count()
    response = pull(client, "OPS", body, token)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid"
    assert message in response.get_json()["message"]
    assert (seq(board), card_count()) == (before, cards)


def test_an_unknown_board_or_card_is_404(client, ops):
    board, _, _, ann, _ = ops
    token = hook_token(board, ann)
    assert pull(client, "NOPE", {"card": "NOPE-1", "reason": "x"}, token).status_code == 404
    unknown = pull(client, "OPS", {"card": "OPS-99", "reason": "x"}, token)
    assert unknown.status_code == 404
    assert unknown.get_json()["message"] == "There is no card OPS-99 on OPS."


def test_an_oversized_body_is_413(client, ops):
    board, _, card, ann, _ = ops
    token = hook_token(board, ann)
    body = {"card": card.key, "reason": "x" * (17 * 1024)}
    response = pull(client, "OPS", body, token)
    assert response.status_code == 413
    assert "16 KiB" in response.get_json()["message"]
    db.session.refresh(card)
    assert card.andon_at is None


def test_pulling_twice_is_refused_the_second_time(client, ops):
    board, _, card, ann, _ = ops
    token = hook_token(board, ann)
    assert pull(client, "OPS", {"card": card.key, "reason": "Down"}, token).status_code == 201
    again = pull(client, "OPS", {"card": card.key, "reason": "Still down"}, token)
    assert again.status_code == 422
    assert "already pulled" in again.get_json()["message"]


def test_the_webhook_needs_no_csrf_token_or_session(app, ops):
    board, _, card, ann, _ = ops
    token = hook_token(board, ann)
    plain = FlaskClient(app, app.response_class, use_cookies=False)  # no CSRF header
    response = pull(plain, "OPS", {"card": card.key, "reason": "From CI"}, token)
    assert response.status_code == 201


# --- managing hooks in the settings ----------------------------------------------------------


def test_an_owner_creates_a_hook_sees_its_token_once_and_revokes_it(client, login, ops):
    board, _, card, _, _ = ops
    login("ann")
    created = client.post("/boards/OPS/hooks", data={"name": "CI pipeline"}, headers=HX)
    assert created.status_code == 200
    html = created.get_data(as_text=True)
    token = re.search(r'id="new-hook-token">(sbh_[^<]+)<', html).group(1)
    assert "curl -X POST http://localhost/hooks/andon/OPS" in html
    hook = db.session.scalar(select(AndonHook))
    assert hook.name == "CI pipeline" and token.startswith(hook.prefix)
    settings = client.get("/boards/OPS/settings").get_data(as_text=True)
    assert token not in settings and f"{hook.prefix}…" in settings
    assert pull(client, "OPS", {"card": card.key, "reason": "x"}, token).status_code == 201
    revoked = client.post(f"/boards/OPS/hooks/{hook.id}/revoke", headers=HX)
    assert revoked.status_code == 200 and "revoked" in revoked.get_data(as_text=True)
    db.session.refresh(card)
    assert pull(client, "OPS", {"card": card.key, "reason": "y"}, token).status_code == 403


def test_an_empty_hook_name_is_refused(client, login, ops):
    login("ann")
    response = client.post("/boards/OPS/hooks", data={"name": " "}, headers=HX)
    assert response.status_code == 422
    assert "Hook name cannot be empty" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AndonHook.id))) == 0


def test_members_cannot_create_or_revoke_hooks(client, login, ops):
    board, _, _, ann, _ = ops
    hook_token(board, ann)
    hook = db.session.scalar(select(AndonHook))
    login("bob")
    assert client.post("/boards/OPS/hooks", data={"name": "mine"}, headers=HX).status_code == 403
    assert client.post(f"/boards/OPS/hooks/{hook.id}/revoke", headers=HX).status_code == 403
    db.session.refresh(hook)
    assert hook.revoked_at is None
    assert db.session.scalar(select(func.count(AndonHook.id))) == 1


def test_a_hook_of_another_board_cannot_be_revoked_through_this_one(client, login, ops):
    _, other, _, ann, _ = ops
    hook_token(other, ann)
    hook = db.session.scalar(select(AndonHook))
    login("ann")
    response = client.post(f"/boards/OPS/hooks/{hook.id}/revoke", headers=HX)
    assert response.status_code == 404
    db.session.refresh(hook)
    assert hook.revoked_at is None


def test_pulls_by_webhook_are_in_the_boards_event_log(client, ops):
    board, _, card, ann, _ = ops
    token = hook_token(board, ann, "Grafana")
    pull(client, "OPS", {"card": card.key, "reason": "Alert"}, token)
    pulled = db.session.scalar(select(Event).where(Event.type == "card.andon_pulled"))
    assert pulled.data["via"] == "webhook Grafana"
