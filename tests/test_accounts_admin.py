"""Site administration in the browser: people (add, change, deactivate, reactivate, make admin,
log out everywhere, a link to choose a password), teams, every API token, every wall link, and
the audit log that records each of those with who and from where. Deactivating someone ends
their sessions, sockets and tokens at once."""

import re
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from app.accounts.models import AuditEntry, Team, User
from app.accounts.services import create_token
from app.boards.models import Board, BoardMember
from app.clock import utcnow
from app.extensions import db, socketio
from app.wall.services import create_wall_link
from tests import factories as make
from tests.mailbox import links_in
from tests.swarm_room_data import Browser, as_user

ROW = re.compile(r'<tr data-action="([\w.]+)">')
LINK = re.compile(r'<code id="handover-link">https?://[^/]+(/password/reset/[\w-]+)</code>')


@pytest.fixture
def client(app):
    return Browser(app, app.response_class, use_cookies=True)


@pytest.fixture
def site(app, simple):
    """SIM (ann owner, bob member) and ada, a site admin, logged in."""
    board, ann, bob = simple
    make.user("ada", display_name="Ada Admin", is_admin=True)
    return board, ann, bob, as_user(app, "ada")


def person(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def audit_actions() -> list[str]:
    return db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()


def test_only_site_admins_see_the_administration(app, site, client):
    board, ann, bob, ada = site
    assert client.get("/admin/people").status_code == 302  # logged out: to the login
    ann_browser = as_user(app, "ann")
    refused = ann_browser.get("/admin/people")
    assert refused.status_code == 403
    assert "Only site admins" in refused.get_data(as_text=True)
    assert "/admin/people" not in ann_browser.get("/").get_data(as_text=True)
    page = ada.get("/admin/people").get_data(as_text=True)
    assert all(name in page for name in ("@ann", "@bob", "Ada Admin"))
    assert 'href="/admin/people"' in ada.get("/").get_data(as_text=True)


def test_people_are_found_by_name_and_state(site):
    *_, ada = site
    bob = person("bob")
    bob.deactivated_at = utcnow()
    db.session.commit()
    found = ada.get("/admin/people?q=an&state=active").get_data(as_text=True)
    assert "@ann" in found and "@bob" not in found
    gone = ada.get("/admin/people?state=deactivated").get_data(as_text=True)
    assert "@bob" in gone and "@ann" not in gone


def test_a_person_added_without_a_password_gets_a_link_to_choose_one(app, site):
    *_, ada = site
    page = ada.post("/admin/people", data={"username": "cleo", "display_name": "Cleo Carter"})
    assert page.status_code == 200
    path = LINK.search(page.get_data(as_text=True)).group(1)
    assert person("cleo").can_use_password is False
    cleo = Browser(app, app.response_class, use_cookies=True)
    assert cleo.post("/login", data={"username": "cleo", "password": "x" * 64}).status_code == 401
    assert cleo.post(path, data={"password": "cleo-horse-1", "again": "cleo-horse-1"}
                     ).status_code == 302
    assert cleo.post("/login", data={"username": "cleo", "password": "cleo-horse-1"}
                     ).status_code == 302
    assert audit_actions()[-4:] == ["person.created", "password.reset_sent", "password.reset",
                                    "login.password"]


def test_with_email_on_the_link_is_emailed_instead(app, site, smtp):
    *_, ada = site
    page = ada.post("/admin/people", data={"username": "cleo", "email": "cleo@example.com"})
    assert page.status_code == 302
    (recipients, message), = smtp.messages
    assert recipients == ["cleo@example.com"]
    assert message["Subject"] == "Set your Swarmboard password"
    assert "Ada Admin made you a Swarmboard account" in message.get_body(("plain",)).get_content()
    assert any("/password/reset/" in url for url in links_in(message))
    assert person("cleo").email_verified_at is not None  # an admin's word for it


def test_a_person_added_with_a_password_logs_in_and_bad_input_names_the_problem(app, site):
    *_, ada = site
    made = ada.post("/admin/people", data={"username": "dan", "password": "dan-horse-1",
                                            "is_admin": "1"})
    assert made.status_code == 302
    assert person("dan").is_admin
    for data, says in [({"username": "dan"}, "is taken"),
                       ({"username": "X!"}, "Username must be"),
                       ({"username": "eve", "email": "not-an-address"}, "not an email address"),
                       ({"username": "eve", "email": "dan@x.io", "password": "short"},
                        "at least 8")]:
        answer = ada.post("/admin/people", data=data)
        assert answer.status_code == 422, data
        assert says in answer.get_data(as_text=True)
    assert person("eve") is None


def test_deactivating_someone_ends_their_sessions_tokens_and_sockets_at_once(app, site, client):
    board, ann, bob, ada = site
    bob_browser = as_user(app, "bob")
    token = create_token(person("bob"), "cli")
    db.session.commit()
    api = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/boards", headers=api).status_code == 200
    g.pop("_login_user", None)
    by_token = socketio.test_client(app, auth={"token": token})
    assert by_token.emit("join", {"board": "SIM"}, callback=True)["ok"]
    by_browser = socketio.test_client(app, flask_test_client=bob_browser)
    assert by_browser.is_connected()
    card = make.card(board, person("bob"), "bob's card")

    answer = ada.post("/admin/people/bob/deactivate")
    assert answer.status_code == 302
    assert not by_token.is_connected(), "the socket on the board is cut"
    assert not by_browser.is_connected(), "the socket of another page is cut"
    assert bob_browser.get("/").status_code == 302  # the session is over
    g.pop("_login_user", None)
    assert client.get("/api/v1/boards", headers=api).status_code == 401
    refused = client.post("/login", data={"username": "bob", "password": make.PASSWORD})
    assert refused.status_code == 401
    assert "do not match" in refused.get_data(as_text=True)  # the same answer as a typo
    assert not socketio.test_client(app, auth={"token": token}).is_connected()
    assert db.session.get(type(card), card.id).title == "bob's card"  # their work stays
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.subject, entry.actor.username) == (
        "person.deactivated", "bob", "ada")
    assert entry.address == "127.0.0.1"

    assert ada.post("/admin/people/bob/reactivate").status_code == 302
    assert client.post("/login", data={"username": "bob", "password": make.PASSWORD}
                       ).status_code == 302
    assert client.get("/api/v1/boards", headers=api).status_code == 200


def test_an_admin_cannot_deactivate_themselves_or_leave_the_site_without_an_admin(site):
    *_, ada = site
    answer = ada.post("/admin/people/ada/deactivate")
    assert answer.status_code == 422 and "yourself" in answer.get_data(as_text=True)
    last = ada.post("/admin/people/ada/admin", data={"admin": "0"})
    assert last.status_code == 422 and "at least one active site admin" in last.get_data(
        as_text=True)
    assert ada.post("/admin/people/ann/admin", data={"admin": "1"}).status_code == 302
    assert person("ann").is_admin
    assert ada.post("/admin/people/ada/admin", data={"admin": "0"}).status_code == 302
    assert not person("ada").is_admin


def test_logging_someone_out_everywhere_keeps_their_account(app, site):
    *_, ada = site
    bob_browser = as_user(app, "bob")
    assert ada.post("/admin/people/bob/sessions").status_code == 302
    assert bob_browser.get("/").status_code == 302
    assert as_user(app, "bob").get("/").status_code == 200


def test_changing_a_persons_name_and_address(site):
    *_, ada = site
    saved = ada.post("/admin/people/bob", data={"display_name": "Robert B", "email": "rb@x.io"})
    assert saved.status_code == 302
    bob = person("bob")
    assert (bob.display_name, bob.email) == ("Robert B", "rb@x.io")
    taken = ada.post("/admin/people/ann", data={"display_name": "Ann", "email": "RB@x.io"})
    assert taken.status_code == 422 and "belongs to someone else" in taken.get_data(as_text=True)
    assert ada.get("/admin/people/nobody").status_code == 404


def test_teams_are_made_filled_renamed_and_deleted_and_boards_keep_their_members(app, site):
    board, ann, bob, ada = site
    ada.post("/admin/teams", data={"name": "Service Desk"})
    team = db.session.scalar(select(Team))
    assert ada.post(f"/admin/teams/{team.id}/members", data={"username": "bob"}
                    ).status_code == 302
    again = ada.post(f"/admin/teams/{team.id}/members", data={"username": "bob"})
    assert again.status_code == 422 and "already in" in again.get_data(as_text=True)
    assert ada.post(f"/admin/teams/{team.id}/members", data={"username": "zed"}
                    ).status_code == 404
    page = ada.get("/admin/teams").get_data(as_text=True)
    assert "Service Desk" in page and "@bob" in page
    taken = ada.post("/admin/teams", data={"name": "service desk"})
    assert taken.status_code == 422
    ada.post(f"/admin/teams/{team.id}", data={"name": "Desk"})
    board.team_id = team.id
    db.session.commit()
    assert ada.post(f"/admin/teams/{team.id}/members/bob/remove").status_code == 302
    assert ada.post(f"/admin/teams/{team.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Team)) is None
    assert db.session.get(Board, board.id).team_id is None
    assert db.session.get(BoardMember, (board.id, bob.id)) is not None
    assert audit_actions()[-5:] == ["team.created", "team.member_added", "team.renamed",
                                    "team.member_removed", "team.deleted"]


def test_an_admin_revokes_anyones_token(app, site, client):
    *_, ada = site
    token = create_token(person("ann"), "pipeline")
    db.session.commit()
    page = ada.get("/admin/tokens").get_data(as_text=True)
    assert "pipeline" in page and token[:10] in page and token not in page
    token_id = int(re.search(r"/admin/tokens/(\d+)/revoke", page).group(1))
    assert ada.post(f"/admin/tokens/{token_id}/revoke").status_code == 302
    g.pop("_login_user", None)
    assert client.get("/api/v1/boards", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401
    assert ada.post(f"/admin/tokens/{token_id}/revoke").status_code == 404


def test_an_admin_revokes_a_wall_link_of_any_board(app, site, client):
    board, ann, bob, ada = site
    link, token = create_wall_link(board, ann, "Team room TV")
    db.session.commit()
    assert client.get(f"/wall/{token}").status_code == 200
    page = ada.get("/admin/wall-links").get_data(as_text=True)
    assert "Team room TV" in page and "SIM" in page
    assert ada.post(f"/admin/wall-links/{link.id}/revoke").status_code == 302
    assert client.get(f"/wall/{token}").status_code in (403, 404, 410)
    assert "revoked" in ada.get("/admin/wall-links").get_data(as_text=True)
    assert audit_actions()[-1] == "wall_link.revoked"


def test_the_audit_log_is_filtered_by_action_person_and_date(site):
    *_, ada = site
    ada.post("/admin/people", data={"username": "cleo", "password": "cleo-horse-1"})
    ada.post("/admin/people/bob/sessions")
    ada.post("/admin/teams", data={"name": "Ops"})
    def rows(query: str = "") -> list[str]:
        return ROW.findall(ada.get(f"/admin/audit{query}").get_data(as_text=True))

    assert {"person.created", "person.sessions_ended", "team.created", "login.password"} <= set(
        rows())
    assert rows("?action=team") == ["team.created"]
    assert rows("?action=person.created") == ["person.created"]
    assert rows("?person=bob") == ["person.sessions_ended"]
    assert {"person.created", "team.created"} <= set(rows("?person=ada"))  # what ada did
    today = utcnow().date()
    assert rows(f"?since={today + timedelta(days=1)}") == []
    assert "team.created" in rows(f"?until={today}")
    bad = ada.get("/admin/audit?since=yesterday")
    assert bad.status_code == 422 and "a date like" in bad.get_data(as_text=True)
    assert ada.get("/admin/audit?action=nonsense").status_code == 422


def test_the_audit_log_pages_back_through_older_entries(site):
    *_, ada = site
    admin = person("ada")
    for n in range(105):
        db.session.add(AuditEntry(actor_id=admin.id, action="team.created", subject=f"T{n}",
                                  detail={}))
    db.session.commit()
    first = ada.get("/admin/audit?action=team").get_data(as_text=True)
    assert ">T104<" in first and ">T4<" not in first
    older = re.search(r'href="(/admin/audit\?[^"]+)">Older entries', first).group(1)
    second = ada.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert ">T4<" in second and ">T104<" not in second


@pytest.mark.parametrize("target, lands", [
    ("/boards/SIM", "/boards/SIM"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("https://evil.example/", "/"),
])
def test_after_logging_in_only_a_page_of_this_site_is_opened(client, simple, target, lands):
    answer = client.post(f"/login?next={target}", data={"username": "ann",
                                                        "password": make.PASSWORD})
    assert answer.status_code == 302 and answer.headers["Location"] == lands
