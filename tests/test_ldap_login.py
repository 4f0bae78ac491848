"""Logging in through an LDAP directory on the login page (a real slapd): the first login makes
the person (or finds the account of that name), a second finds them again, groups set the teams
LDAP_TEAM_MAP names; a wrong password is the same answer as ever; a directory that is down is
said so, 503, without writing anything."""

import pytest
from sqlalchemy import func, select

from app.accounts.models import AuditEntry, ExternalIdentity, Team, User
from app.accounts.services import create_team
from app.extensions import db
from tests import factories as make
from tests.ldap_server import start_slapd
from tests.swarm_room_data import Browser

PEOPLE = {
    "lena": {"cn": "Lena Hart", "mail": "lena@example.org", "password": "lena-secret"},
    "ann": {"cn": "Ann From LDAP", "mail": "ann@example.org", "password": "ann-ldap-secret"},
}
GROUPS = {"sre": ["lena"], "desk": ["ann"]}


@pytest.fixture(scope="module")
def slapd():
    server = start_slapd(PEOPLE, GROUPS)
    yield server
    server.remove()


@pytest.fixture
def directory(app, slapd):
    app.config["LDAP"] = {
        "LDAP_URL": slapd.url, "LDAP_BIND_DN": slapd.bind_dn,
        "LDAP_BIND_PASSWORD": slapd.bind_password, "LDAP_BASE_DN": slapd.base_dn,
        "LDAP_GROUP_BASE_DN": f"ou=groups,{slapd.base_dn}",
        "LDAP_TEAM_MAP": "sre=Site Reliability, desk=Service Desk", "LDAP_TIMEOUT": 2}
    yield slapd
    app.config["LDAP"] = None


@pytest.fixture
def browser(app):
    return Browser(app, app.response_class, use_cookies=True)


def log_in(browser, username: str, password: str):
    return browser.post("/login", data={"username": username, "password": password})


def person(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_a_first_ldap_login_makes_the_person_and_a_second_finds_them(app, directory, browser):
    sre = create_team("Site Reliability", [])
    db.session.commit()
    answer = log_in(browser, "lena", "lena-secret")
    assert answer.status_code == 302
    assert "Lena Hart" in browser.get("/").get_data(as_text=True)
    lena = person("lena")
    assert (lena.display_name, lena.email, lena.can_use_password) == (
        "Lena Hart", "lena@example.org", False)
    assert lena.email_verified_at is not None
    assert [m.user.username for m in db.session.get(Team, sre.id).members] == ["lena"]
    browser.post("/logout")
    assert log_in(browser, "LENA", "lena-secret").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.username.like("lena%"))) == 1
    assert db.session.scalar(select(func.count()).select_from(ExternalIdentity)) == 1
    logins = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action == "login.ldap")).all()
    assert len(logins) == 2


def test_an_account_of_the_same_name_is_linked_and_its_own_password_still_works(
        app, directory, browser):
    make.user("ann")
    assert log_in(browser, "ann", "ann-ldap-secret").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.username.like("ann%"))) == 1
    browser.post("/logout")
    assert log_in(browser, "ann", make.PASSWORD).status_code == 302


def test_a_wrong_password_is_the_same_answer_and_counts_for_throttling(app, directory, browser):
    answer = log_in(browser, "lena", "wrong")
    assert answer.status_code == 401
    assert "do not match" in answer.get_data(as_text=True)
    assert log_in(browser, "nobody", "whatever").status_code == 401
    assert person("lena") is None


def test_a_directory_that_is_down_is_said_so_and_nothing_is_written(app, directory, browser):
    directory.stop()
    try:
        answer = log_in(browser, "lena", "lena-secret")
        assert answer.status_code == 503
        assert "cannot be reached" in answer.get_data(as_text=True)
        assert person("lena") is None
    finally:
        directory.start()
    assert log_in(browser, "lena", "lena-secret").status_code == 302


def test_a_deactivated_directory_person_is_refused(app, directory, browser):
    assert log_in(browser, "lena", "lena-secret").status_code == 302
    lena = person("lena")
    lena.deactivated_at = lena.created_at
    db.session.commit()
    other = Browser(app, app.response_class, use_cookies=True)
    answer = log_in(other, "lena", "lena-secret")
    assert answer.status_code == 403
    assert "deactivated" in answer.get_data(as_text=True)
    assert browser.get("/").status_code == 302  # the earlier session ended with it
