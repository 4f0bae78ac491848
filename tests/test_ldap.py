"""LDAP login (app/accounts/ldap.py) against a real slapd started for this module: no Flask app,
no database."""

import socket
import time

import pytest

from app.accounts.ldap import LdapPerson, LdapUnavailable, ldap_login, ldap_settings
from tests.ldap_server import start_slapd

PEOPLE = {
    "ann": {"cn": "Ann Lee", "mail": "ann@example.org", "password": "ann-secret"},
    "bob": {"cn": "Bob Stone", "mail": "bob@example.org", "password": "bob-secret"},
    "cy.r-o_1": {"cn": "Cy Ro", "mail": "cy@example.org", "password": "cy-secret"},
}
GROUPS = {"operators": ["ann", "bob"], "admins": ["ann"], "nobody-here": []}
ANN = LdapPerson(username="ann", display_name="Ann Lee", email="ann@example.org",
                 groups=("admins", "operators"))


@pytest.fixture(scope="module")
def slapd():
    server = start_slapd(PEOPLE, GROUPS)
    yield server
    server.remove()


@pytest.fixture
def searching(slapd):
    """Settings that find people with the search account."""
    return {"LDAP_URL": slapd.url, "LDAP_BIND_DN": slapd.bind_dn,
            "LDAP_BIND_PASSWORD": slapd.bind_password, "LDAP_BASE_DN": slapd.base_dn,
            "LDAP_GROUP_BASE_DN": f"ou=groups,{slapd.base_dn}"}


@pytest.fixture
def direct(slapd):
    """Settings that bind straight to a DN made from the name, without a search account."""
    return {"LDAP_URL": slapd.url, "LDAP_BASE_DN": slapd.base_dn,
            "LDAP_USER_DN_TEMPLATE": f"uid={{username}},ou=people,{slapd.base_dn}",
            "LDAP_GROUP_BASE_DN": f"ou=groups,{slapd.base_dn}"}


@pytest.fixture(params=["searching", "direct"])
def settings(request):
    return request.getfixturevalue(request.param)


def test_the_right_password_gives_the_person_with_name_email_and_groups(settings):
    assert ldap_login(settings, "ann", "ann-secret") == ANN


def test_the_name_is_stripped_and_lower_cased(settings):
    assert ldap_login(settings, "  Ann ", "ann-secret") == ANN


def test_names_may_hold_dots_dashes_underscores_and_digits(settings):
    assert ldap_login(settings, "cy.r-o_1", "cy-secret").display_name == "Cy Ro"


def test_groups_are_listed_only_when_a_group_base_is_set(settings):
    settings = {key: value for key, value in settings.items() if key != "LDAP_GROUP_BASE_DN"}
    assert ldap_login(settings, "bob", "bob-secret").groups == ()


@pytest.mark.parametrize("username, password", [
    ("ann", "wrong"),
    ("ann", "bob-secret"),  # another person's password
    ("nobody", "ann-secret"),  # unknown: the same answer as a wrong password
    ("ann", ""),  # an unauthenticated bind would succeed: never a login
    ("", ""),
])
def test_a_wrong_password_or_an_unknown_name_gives_none(settings, username, password):
    assert ldap_login(settings, username, password) is None


@pytest.mark.parametrize("username", ["*", "ann)(uid=*", "a*", "ann)(|(uid=*", "ann,ou=people",
                                      "ann\x00", "anné"])
def test_names_with_filter_or_dn_syntax_give_none(settings, username):
    assert ldap_login(settings, username, "ann-secret") is None


def test_a_filter_matching_several_people_gives_none(searching):
    searching["LDAP_USER_FILTER"] = "(|(uid={username})(uid=bob))"
    assert ldap_login(searching, "ann", "ann-secret") is None


def test_the_anonymous_search_works_when_the_directory_allows_it(searching):
    del searching["LDAP_BIND_DN"], searching["LDAP_BIND_PASSWORD"]
    assert ldap_login(searching, "ann", "ann-secret") == ANN


def test_other_attributes_can_hold_the_name_and_email(searching):
    searching |= {"LDAP_ATTR_NAME": "sn", "LDAP_ATTR_EMAIL": "uid"}
    person = ldap_login(searching, "ann", "ann-secret")
    assert (person.display_name, person.email) == ("Lee", "ann")


def test_a_refused_search_account_is_unavailable_not_a_wrong_password(searching):
    searching["LDAP_BIND_PASSWORD"] = "not-the-reader-password"
    with pytest.raises(LdapUnavailable) as raised:
        ldap_login(searching, "ann", "ann-secret")
    assert raised.value.status == 503 and raised.value.code == "unavailable"
    assert "refused the search account cn=reader,dc=example,dc=org" in raised.value.message


def test_a_wrong_base_dn_is_unavailable(searching):
    searching["LDAP_BASE_DN"] = "ou=nowhere,dc=example,dc=org"
    with pytest.raises(LdapUnavailable, match="search .* under ou=nowhere.* failed"):
        ldap_login(searching, "ann", "ann-secret")


def test_a_stopped_server_is_unavailable_and_the_next_login_works_again(slapd, settings):
    slapd.stop()
    try:
        with pytest.raises(LdapUnavailable) as raised:
            ldap_login(settings, "ann", "ann-secret")
        assert raised.value.message.startswith(f"The LDAP server at {slapd.url} cannot be "
                                               "reached")
    finally:
        slapd.start()
    assert ldap_login(settings, "ann", "ann-secret") == ANN


def test_an_empty_password_is_refused_without_asking_the_server(slapd, settings):
    slapd.stop()
    try:
        assert ldap_login(settings, "ann", "") is None
    finally:
        slapd.start()


def test_a_server_that_does_not_answer_is_unavailable_after_the_timeout(direct):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connections wait in its backlog
        direct |= {"LDAP_URL": f"ldap://127.0.0.1:{silent.getsockname()[1]}", "LDAP_TIMEOUT": 1}
        started = time.monotonic()
        with pytest.raises(LdapUnavailable, match="cannot be reached"):
            ldap_login(direct, "ann", "ann-secret")
    assert time.monotonic() - started < 5


def test_starttls_checks_the_certificate(slapd, settings):
    settings |= {"LDAP_STARTTLS": True, "LDAP_CA_FILE": slapd.ca_file}
    assert ldap_login(settings, "ann", "ann-secret") == ANN
    del settings["LDAP_CA_FILE"]  # the system's CAs do not know the self-signed certificate
    with pytest.raises(LdapUnavailable, match=r"cannot be reached securely \(self-signed"):
        ldap_login(settings, "ann", "ann-secret")


def test_ldaps_checks_the_certificate_and_the_host_name(slapd, settings):
    settings |= {"LDAP_URL": slapd.ldaps_url, "LDAP_CA_FILE": slapd.ca_file}
    assert ldap_login(settings, "ann", "ann-secret") == ANN
    settings["LDAP_URL"] = slapd.ldaps_url.replace("127.0.0.1", "localhost")  # not in the cert
    with pytest.raises(LdapUnavailable, match="cannot be reached securely .*Hostname mismatch"):
        ldap_login(settings, "ann", "ann-secret")
    settings |= {"LDAP_URL": slapd.ldaps_url, "LDAP_CA_FILE": None}
    with pytest.raises(LdapUnavailable, match=r"cannot be reached securely \(self-signed"):
        ldap_login(settings, "ann", "ann-secret")


def test_ldap_settings_is_none_without_ldap_url():
    assert ldap_settings({}) is None
    assert ldap_settings({"LDAP_URL": "", "LDAP_BASE_DN": "dc=example,dc=org"}) is None


def test_ldap_settings_reads_the_environment():
    env = {"LDAP_URL": "ldaps://ldap.example.org", "LDAP_BASE_DN": "dc=example,dc=org",
           "LDAP_BIND_DN": "cn=reader,dc=example,dc=org", "LDAP_BIND_PASSWORD": "secret",
           "LDAP_STARTTLS": "yes", "LDAP_TIMEOUT": "2.5", "LDAP_ATTR_NAME": "displayName",
           "LDAP_USER_DN_TEMPLATE": "", "HOME": "/root"}
    assert ldap_settings(env) == {
        "LDAP_URL": "ldaps://ldap.example.org", "LDAP_BASE_DN": "dc=example,dc=org",
        "LDAP_BIND_DN": "cn=reader,dc=example,dc=org", "LDAP_BIND_PASSWORD": "secret",
        "LDAP_STARTTLS": True, "LDAP_TIMEOUT": 2.5, "LDAP_ATTR_NAME": "displayName",
    }
    assert ldap_settings({"LDAP_URL": "ldap://x", "LDAP_STARTTLS": "0"})["LDAP_STARTTLS"] is False
