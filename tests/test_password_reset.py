"""Forgotten passwords and confirmed addresses, by email through a real SMTP server (aiosmtpd):
the link works once, for a limited time, for an active person only; asking answers the same
for known and unknown names; a reset ends every older session."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import AccountToken, AuditEntry, User
from app.extensions import db
from tests import factories as make
from tests.mailbox import links_in
from tests.swarm_room_data import Browser, as_user

SENT_SENTENCE = "a link to choose a new password is on its way"


@pytest.fixture
def client(app):
    """Several browsers take turns in these tests: each forgets the others' cached login."""
    return Browser(app, app.response_class, use_cookies=True)


@pytest.fixture
def ann(app):
    user = make.user("ann", display_name="Ann Archer")
    user.email = "ann@example.com"
    user.email_verified_at = user.created_at
    db.session.commit()
    return user


def ask_reset(client, name: str):
    page = client.get("/password/forgot")
    assert page.status_code == 200
    return client.post("/password/forgot", data={"name": name})


def reset_link(smtp) -> str:
    (recipients, message), = smtp.messages[-1:]
    assert message["Subject"] == "Reset your Swarmboard password"
    link = next(url for url in links_in(message) if "/password/reset/" in url)
    return link.replace("https://sb.example", "")


def test_a_forgotten_password_is_reset_through_the_emailed_link(smtp, ann, client):
    old_session = make_session(client.application, "ann")
    answer = ask_reset(client, "ann@example.com")
    assert SENT_SENTENCE in answer.get_data(as_text=True)
    assert smtp.messages[0][0] == ["ann@example.com"]
    path = reset_link(smtp)
    assert "Choose a password" in client.get(path).get_data(as_text=True)

    done = client.post(path, data={"password": "new-horse-battery", "again": "new-horse-battery"})
    assert done.status_code == 302 and "/login" in done.headers["Location"]
    assert client.post("/login", data={"username": "ann", "password": "correct-horse"}
                       ).status_code == 401
    assert client.post("/login", data={"username": "ann", "password": "new-horse-battery"}
                       ).status_code == 302
    # The session logged in before the reset is over.
    assert old_session.get("/").status_code == 302
    again = client.post(path, data={"password": "third-horse-xx", "again": "third-horse-xx"})
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "password.reset_sent" in actions and "password.reset" in actions


def make_session(app, username: str):
    """Another browser, logged in as `username`."""
    other = as_user(app, username)
    assert other.get("/").status_code == 200
    return other


def test_unknown_names_and_unconfirmed_addresses_get_the_same_answer_and_no_email(
        smtp, ann, client):
    bob = make.user("bob")
    bob.email = "bob@example.com"  # given, never confirmed
    db.session.commit()
    answers = [ask_reset(client, name).get_data(as_text=True)
               for name in ("nobody@example.com", "nobody", "bob", "bob@example.com")]
    assert all(SENT_SENTENCE in answer for answer in answers)
    assert smtp.messages == []
    assert db.session.scalar(select(func.count()).select_from(AccountToken)) == 0


def test_a_username_finds_the_account_too_and_a_newer_link_retires_the_older(smtp, ann, client):
    ask_reset(client, "ann")
    first = reset_link(smtp)
    ask_reset(client, "ANN@example.com")
    second = reset_link(smtp)
    assert first != second
    refused = client.get(first)
    assert refused.status_code == 400
    assert "newer one was sent" in refused.get_data(as_text=True)
    assert client.get(second).status_code == 200


def test_an_expired_link_is_refused_and_changes_nothing(smtp, ann, client):
    ask_reset(client, "ann")
    path = reset_link(smtp)
    record = db.session.scalar(select(AccountToken))
    record.expires_at = record.created_at - timedelta(seconds=1)
    db.session.commit()
    before = ann.password_hash
    answer = client.post(path, data={"password": "new-horse-battery", "again": "new-horse-battery"})
    assert answer.status_code == 400
    assert "has expired" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, ann.id).password_hash == before


@pytest.mark.parametrize("password, again, says", [
    ("short", "short", "at least 8 characters"),
    ("long-enough-1", "long-enough-2", "differ"),
])
def test_a_bad_new_password_keeps_the_link_usable(smtp, ann, client, password, again, says):
    ask_reset(client, "ann")
    path = reset_link(smtp)
    answer = client.post(path, data={"password": password, "again": again})
    assert answer.status_code == 422 and says in answer.get_data(as_text=True)
    assert client.post(path, data={"password": "fine-horse-1", "again": "fine-horse-1"}
                       ).status_code == 302


def test_a_forged_or_deactivated_persons_link_is_refused(smtp, ann, client):
    assert client.get("/password/reset/not-a-token").status_code == 400
    ask_reset(client, "ann")
    path = reset_link(smtp)
    ann.deactivated_at = ann.created_at
    db.session.commit()
    answer = client.get(path)
    assert answer.status_code == 400 and "deactivated" in answer.get_data(as_text=True)


def test_asking_over_and_over_is_slowed_down(smtp, ann, client):
    for _ in range(6):  # five free, and the sixth starts the wait
        assert ask_reset(client, "ann").status_code == 200
    slowed = ask_reset(client, "ann")
    assert slowed.status_code == 429 and "Retry-After" in slowed.headers
    assert "try again in" in slowed.get_data(as_text=True)
    assert len(smtp.messages) == 6


def test_without_email_the_page_says_to_ask_an_admin(app, ann, client):
    assert app.config.get("SMTP") is None
    page = client.get("/password/forgot")
    assert page.status_code == 503
    assert "Ask a site admin" in page.get_data(as_text=True)
    assert "Forgot your password" not in client.get("/login").get_data(as_text=True)


# --- confirming an address ------------------------------------------------------------------


def test_a_new_address_is_confirmed_by_the_link_sent_to_it(smtp, app, client, login):
    make.user("bob")
    login("bob")
    saved = client.post("/profile/notifications", data={
        "email": "bob@example.com", "timezone": "UTC", "digest_hour": "8"})
    assert saved.status_code == 302
    (recipients, message), = smtp.messages
    assert recipients == ["bob@example.com"]
    path = next(u for u in links_in(message) if "/email/verify/" in u).replace(
        "https://sb.example", "")
    profile = client.get("/profile").get_data(as_text=True)
    assert "not confirmed" in profile
    page = client.get(path)
    assert page.status_code == 200 and "bob@example.com is confirmed" in page.get_data(as_text=True)
    assert "can be used to reset your password" in client.get("/profile").get_data(as_text=True)
    assert client.get(path).status_code == 400  # once


def test_changing_the_address_again_retires_the_old_link(smtp, client, login):
    make.user("bob")
    login("bob")
    for address in ("bob@example.com", "robert@example.com"):
        client.post("/profile/notifications", data={"email": address, "timezone": "UTC",
                                                    "digest_hour": "8"})
    first = next(u for u in links_in(smtp.messages[0][1]) if "/email/verify/" in u)
    answer = client.get(first.replace("https://sb.example", ""))
    assert answer.status_code == 400
    bob = db.session.scalar(select(User).where(User.username == "bob"))
    assert bob.email == "robert@example.com" and bob.email_verified_at is None


def test_the_confirmation_can_be_sent_again(smtp, client, login):
    make.user("bob")
    login("bob")
    client.post("/profile/notifications", data={"email": "bob@example.com", "timezone": "UTC",
                                                "digest_hour": "8"})
    again = client.post("/profile/email/confirm")
    assert again.status_code == 302
    assert len(smtp.messages) == 2


# --- one's own password and sessions --------------------------------------------------------


def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(app, client, login):
    make.user("bob")
    elsewhere = make_session(app, "bob")
    login("bob")
    wrong = client.post("/profile/password", data={
        "current": "nope-nope", "password": "new-horse-battery", "again": "new-horse-battery"})
    assert wrong.status_code == 422 and "current password" in wrong.get_data(as_text=True)
    assert elsewhere.get("/").status_code == 200
    done = client.post("/profile/password", data={
        "current": "correct-horse", "password": "new-horse-battery", "again": "new-horse-battery"})
    assert done.status_code == 302
    assert client.get("/").status_code == 200  # this session goes on
    assert elsewhere.get("/").status_code == 302  # the other one is over


def test_logging_out_everywhere_else_keeps_this_session(app, client, login):
    make.user("bob")
    elsewhere = make_session(app, "bob")
    login("bob")
    assert client.post("/profile/sessions/end").status_code == 302
    assert client.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302


def test_a_display_name_is_changed_on_the_profile(client, login):
    make.user("bob")
    login("bob")
    client.post("/profile/about", data={"display_name": "Robert Baker"})
    assert "Robert Baker" in client.get("/profile").get_data(as_text=True)
    empty = client.post("/profile/about", data={"display_name": "  "})
    assert empty.status_code == 422


def test_asking_for_links_does_not_slow_down_logging_in(smtp, ann, client):
    for n in range(22):  # past the address's twenty free requests
        ask_reset(client, f"someone{n}@example.com")
    assert ask_reset(client, "ann").status_code == 429
    assert client.post("/login", data={"username": "ann", "password": "correct-horse"}
                       ).status_code == 302
