"""Invitations to a board: an owner invites an email address (sent through a real SMTP server,
single use) or makes a link for N people that expires; the invitee joins with their account or
makes one; the link refuses clearly once used up, expired, withdrawn, or its board gone."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import AuditEntry, User
from app.boards.invites import accept, invite
from app.boards.models import Board, BoardInvite, BoardMember
from app.events.models import Event
from app.extensions import db
from tests import factories as make
from tests.mailbox import links_in
from tests.swarm_room_data import Browser, as_user
from tests.test_concurrency import race

HX = {"HX-Request": "true"}
LINK = re.compile(r'<code id="new-invite-link">https?://[^/]+(/join/[\w-]+)</code>')


@pytest.fixture
def client(app):
    return Browser(app, app.response_class, use_cookies=True)


def make_link(owner, **form) -> str:
    answer = owner.post("/boards/SIM/invites", data={"role": "member", "days": "7", **form},
                        headers=HX)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return LINK.search(answer.get_data(as_text=True)).group(1)


def role_on(board, username: str) -> str | None:
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.username == username))
    member = db.session.get(BoardMember, (board.id, user.id)) if user else None
    return member.role if member else None


def sign_up(client, path: str, username: str, **extra):
    assert client.get(path).status_code == 200
    return client.post(path, data={"username": username, "display_name": username.title(),
                                   "password": "invited-horse", "again": "invited-horse",
                                   **extra})


def test_a_link_admits_newcomers_who_make_an_account_with_the_role_it_grants(app, simple, client):
    board, ann, bob = simple
    owner = as_user(app, "ann")
    path = make_link(owner, uses="2", role="viewer")
    page = client.get(path).get_data(as_text=True)
    assert "invites you to the board" in page and "as a <strong>viewer</strong>" in page
    joined = sign_up(client, path, "cleo")
    assert joined.status_code == 302 and joined.headers["Location"].endswith("/boards/SIM")
    assert "Welcome to Test board" in client.get("/boards/SIM").get_data(as_text=True)
    assert role_on(board, "cleo") == "viewer"
    event = db.session.scalars(select(Event).order_by(Event.seq.desc())).first()
    assert (event.type, event.data["user"], event.data["invited_by"]) == (
        "member.added", "cleo", "ann")

    second = Browser(app, app.response_class, use_cookies=True)
    assert sign_up(second, path, "dora").status_code == 302
    third = Browser(app, app.response_class, use_cookies=True)
    used_up = third.get(path)
    assert used_up.status_code == 410
    assert "has been used up" in used_up.get_data(as_text=True)
    assert "Withdraw" not in owner.get("/boards/SIM/settings").get_data(as_text=True)


def test_someone_with_an_account_logs_in_and_joins(app, simple, client):
    board, ann, bob = simple
    make.user("cleo")
    path = make_link(as_user(app, "ann"))
    to_login = client.post(path, data={"have_account": "1"})
    assert to_login.headers["Location"].endswith("/login")
    assert "Log in to join <strong>Test board</strong>" in client.get("/login").get_data(
        as_text=True)
    logged_in = client.post("/login", data={"username": "cleo", "password": make.PASSWORD})
    assert logged_in.headers["Location"].endswith(path)
    assert "Join as cleo" in client.get(path).get_data(as_text=True)
    assert client.post(path).status_code == 302
    assert role_on(board, "cleo") == "member"


def test_a_member_keeps_a_higher_role_and_the_use_is_not_spent(app, simple, client):
    board, ann, bob = simple
    owner = as_user(app, "ann")
    path = make_link(owner, role="viewer", uses="1")
    bob_browser = as_user(app, "bob")
    answer = bob_browser.post(path)
    assert answer.status_code == 302
    assert "already on Test board" in bob_browser.get("/boards/SIM").get_data(as_text=True)
    assert role_on(board, "bob") == "member"
    assert db.session.scalar(select(BoardInvite.uses)) == 0
    upgrade = make_link(owner, role="owner")
    bob_browser.post(upgrade)
    assert role_on(board, "bob") == "owner"


def test_an_email_invitation_is_sent_and_its_address_counts_as_confirmed(app, simple, smtp,
                                                                         client):
    board, ann, bob = simple
    owner = as_user(app, "ann")
    answer = owner.post("/boards/SIM/invites", data={"email": "cleo@example.com",
                                                     "role": "member", "days": "3"}, headers=HX)
    assert "Invitation sent to cleo@example.com" in answer.get_data(as_text=True)
    assert 'id="new-invite-link"' not in answer.get_data(as_text=True)  # it went by email
    (recipients, message), = smtp.messages
    assert recipients == ["cleo@example.com"]
    assert message["Subject"] == "ann invites you to Test board on Swarmboard"
    path = next(u for u in links_in(message) if "/join/" in u).replace("https://sb.example", "")
    assert sign_up(client, path, "cleo").status_code == 302
    cleo = db.session.scalar(select(User).where(User.username == "cleo"))
    assert cleo.email == "cleo@example.com" and cleo.email_verified_at is not None
    assert client.get(path).status_code == 410  # single use


def test_without_email_an_address_is_refused_with_a_sentence(app, simple):
    owner = as_user(app, "ann")
    answer = owner.post("/boards/SIM/invites", data={"email": "cleo@example.com",
                                                     "role": "member"}, headers=HX)
    assert answer.status_code == 422
    assert "sends no email" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BoardInvite)) == 0


@pytest.mark.parametrize("form, says", [
    ({"role": "boss"}, "Role"),
    ({"days": "0"}, "Days the invitation works"),
    ({"days": "91"}, "Days the invitation works"),
    ({"uses": "0"}, "Number of people"),
    ({"uses": "lots"}, "Number of people"),
])
def test_bad_invitation_settings_are_refused(app, simple, form, says):
    owner = as_user(app, "ann")
    answer = owner.post("/boards/SIM/invites", data={"role": "member", **form}, headers=HX)
    assert answer.status_code == 422 and says in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BoardInvite)) == 0


def test_expired_withdrawn_and_forged_links_say_why(app, simple, client):
    board, ann, bob = simple
    owner = as_user(app, "ann")
    expired = make_link(owner)
    record = db.session.scalar(select(BoardInvite))
    record.expires_at = record.created_at - timedelta(minutes=1)
    db.session.commit()
    assert "has expired" in client.get(expired).get_data(as_text=True)
    withdrawn = make_link(owner)
    latest = db.session.scalars(select(BoardInvite).order_by(BoardInvite.id.desc())).first()
    owner.post(f"/boards/SIM/invites/{latest.id}/withdraw", headers=HX)
    answer = client.get(withdrawn)
    assert answer.status_code == 410 and "was withdrawn" in answer.get_data(as_text=True)
    forged = client.get("/join/not-a-real-invitation")
    assert forged.status_code == 410 and "not valid" in forged.get_data(as_text=True)
    refused = client.post(expired, data={"username": "cleo", "display_name": "C",
                                         "password": "invited-horse", "again": "invited-horse"})
    assert refused.status_code == 410
    assert db.session.scalar(select(User).where(User.username == "cleo")) is None


def test_a_deleted_boards_invitation_says_so(app, simple, client):
    board, ann, bob = simple
    path = make_link(as_user(app, "ann"))
    db.session.execute(BoardInvite.__table__.delete())  # what deleting the board does
    db.session.commit()
    answer = client.get(path)
    assert answer.status_code == 410
    assert "its board may have been deleted" in answer.get_data(as_text=True)


def test_a_bad_sign_up_writes_nothing_and_keeps_the_invitation(app, simple, client):
    path = make_link(as_user(app, "ann"))
    taken = sign_up(client, path, "bob")
    assert taken.status_code == 422 and "is taken" in taken.get_data(as_text=True)
    differ = sign_up(client, path, "cleo", again="other-horse")
    assert differ.status_code == 422 and "differ" in differ.get_data(as_text=True)
    assert db.session.scalar(select(BoardInvite.uses)) == 0
    assert sign_up(client, path, "cleo").status_code == 302


def test_only_owners_invite(app, simple):
    bob = as_user(app, "bob")
    answer = bob.post("/boards/SIM/invites", data={"role": "owner"}, headers=HX)
    assert answer.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(BoardInvite)) == 0


def test_a_link_for_two_admits_exactly_two_of_many_at_once(app, simple):
    board, ann, bob = simple
    record, url = invite(board, ann, role="member", uses=2)
    token = url.rsplit("/", 1)[1]
    people = [make.user(f"racer{i}").id for i in range(6)]
    db.session.commit()

    def join(user_id):
        def attempt():
            accept(token, db.session.get(User, user_id))
        return attempt

    outcomes = race(app, [join(user_id) for user_id in people])
    assert sorted(outcomes) == ["InviteRefused"] * 4 + ["ok"] * 2
    db.session.expire_all()
    assert db.session.get(BoardInvite, record.id).uses == 2
    members = db.session.scalar(select(func.count()).select_from(BoardMember).where(
        BoardMember.board_id == board.id))
    assert members == 4  # ann, bob and the two who got in
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "invite.accepted")) == 2
    assert db.session.get(Board, board.id).last_seq == db.session.scalar(
        select(func.max(Event.seq)).where(Event.board_id == board.id))
