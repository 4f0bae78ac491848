"""Optional login against an LDAP directory (OpenLDAP, 389, Active Directory …) with ldap3.

A login is a bind as the person: the directory checks the password, Swarmboard never sees a
hash. The person's DN comes either from LDAP_USER_DN_TEMPLATE (a direct bind, no search) or
from a search under LDAP_BASE_DN with LDAP_USER_FILTER, made with the search account
LDAP_BIND_DN / LDAP_BIND_PASSWORD (anonymously when there is none). After the bind the person's
name, email and groups (the `cn` of each entry under LDAP_GROUP_BASE_DN matching
LDAP_GROUP_FILTER) are read.

`ldap_login` answers an LdapPerson, or None for an unknown name or a wrong password alike, so
a caller cannot tell which accounts exist. A directory that cannot be reached, or that refuses
the search account, is an outage, not a wrong password: LdapUnavailable (503).

Settings, as in the Flask config (`ldap_settings` reads them from the environment):
LDAP_URL (ldap:// or ldaps://), LDAP_STARTTLS, LDAP_CA_FILE (the CA that signed the server's
certificate; the system's CAs otherwise), LDAP_TIMEOUT (seconds), LDAP_BIND_DN,
LDAP_BIND_PASSWORD, LDAP_BASE_DN, LDAP_USER_FILTER, LDAP_USER_DN_TEMPLATE, LDAP_ATTR_NAME,
LDAP_ATTR_EMAIL, LDAP_GROUP_BASE_DN, LDAP_GROUP_FILTER; and for app/accounts/sso.py, which
turns a person found here into a Swarmboard person: LDAP_AUTO_PROVISION (on unless "0") and
LDAP_TEAM_MAP (groups to teams, as OIDC_TEAM_MAP)."""

import math
import re
import ssl
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from app.errors import DomainError

with warnings.catch_warnings():
    # ldap3 2.9.1 (its latest) imports pyasn1's tagMap/typeMap, which pyasn1 0.6 renamed and
    # warns about; harmless, and the tests turn warnings into errors.
    warnings.filterwarnings("ignore", r"(tag|type)Map is deprecated", DeprecationWarning)
    from ldap3 import ANONYMOUS, BASE, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
    from ldap3.core.exceptions import LDAPCommunicationError, LDAPException
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn

DEFAULTS = {
    "LDAP_USER_FILTER": "(uid={username})",
    "LDAP_ATTR_NAME": "cn",
    "LDAP_ATTR_EMAIL": "mail",
    "LDAP_GROUP_FILTER": "(|(member={dn})(uniqueMember={dn}))",
    "LDAP_STARTTLS": False,
    "LDAP_TIMEOUT": 5.0,
}
TEXT_KEYS = ("LDAP_URL", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD", "LDAP_BASE_DN", "LDAP_USER_FILTER",
             "LDAP_USER_DN_TEMPLATE", "LDAP_ATTR_NAME", "LDAP_ATTR_EMAIL", "LDAP_GROUP_BASE_DN",
             "LDAP_GROUP_FILTER", "LDAP_CA_FILE", "LDAP_TEAM_MAP")
TRUE_WORDS = ("1", "true", "yes", "on")
USERNAME = re.compile(r"[a-z0-9._-]+")
SUCCESS = 0  # LDAP result codes
INVALID_CREDENTIALS = 49  # a wrong password, or a DN the directory does not know


class LdapUnavailable(DomainError):
    """The directory cannot answer: unreachable, refusing the search account, or misconfigured."""

    status = 503
    code = "unavailable"


@dataclass(frozen=True)
class LdapPerson:
    username: str
    display_name: str
    email: str | None
    groups: tuple[str, ...]


def ldap_settings(env: dict) -> dict | None:
    """The LDAP_* settings from environment variables; None when LDAP_URL is unset (no LDAP
    login). Unset or empty variables are left out, so the defaults above apply."""
    if not env.get("LDAP_URL"):
        return None
    settings = {key: env[key] for key in TEXT_KEYS if env.get(key)}
    if env.get("LDAP_STARTTLS"):
        settings["LDAP_STARTTLS"] = env["LDAP_STARTTLS"].strip().lower() in TRUE_WORDS
    if env.get("LDAP_AUTO_PROVISION"):
        settings["LDAP_AUTO_PROVISION"] = env["LDAP_AUTO_PROVISION"].strip().lower() in TRUE_WORDS
    if env.get("LDAP_TIMEOUT"):
        settings["LDAP_TIMEOUT"] = float(env["LDAP_TIMEOUT"])
    return settings


def ldap_login(settings: dict, username: str, password: str) -> LdapPerson | None:
    """The person whose name and password these are, or None; LdapUnavailable on an outage.
    Settings that are None or empty take their defaults."""
    settings = DEFAULTS | {key: value for key, value in settings.items() if value not in (None, "")}
    username = clean_username(username)
    if username is None or not password:
        # An empty password would make the bind an "unauthenticated" one, which succeeds.
        return None
    url = settings["LDAP_URL"]
    tls = _CheckedTls(ca_certs_file=settings.get("LDAP_CA_FILE"))
    try:
        server = Server(url, tls=tls, get_info=NONE, connect_timeout=settings["LDAP_TIMEOUT"])
        if template := settings.get("LDAP_USER_DN_TEMPLATE"):
            dn = template.format(username=escape_rdn(username))
            return _login_direct(server, settings, username, password, dn)
        return _login_by_search(server, settings, username, password)
    except LDAPException as error:  # the network, TLS or the protocol failed
        raise _unavailable(url, error, tls) from error


def clean_username(username: str | None) -> str | None:
    """Lower-case and stripped; None when it holds anything but letters, digits and . _ -."""
    username = (username or "").strip().lower()
    return username if USERNAME.fullmatch(username) else None


def _login_direct(server: Server, settings: dict, username: str, password: str,
                  dn: str) -> LdapPerson | None:
    """Bind as the DN the template gives, then read the entry and the groups as the person."""
    with _connection(server, settings, dn, password) as person:
        if not _bound(person, settings):
            return None
        found = _search(person, settings, dn, "(objectClass=*)", BASE, _person_attributes(settings))
        return _person(person, settings, username, found[0]) if found else None


def _login_by_search(server: Server, settings: dict, username: str,
                     password: str) -> LdapPerson | None:
    """Find the person's DN with the search account (anonymously without one), bind as it to
    check the password, then read the groups with the search account (a person may not be
    allowed to)."""
    account = settings.get("LDAP_BIND_DN")
    with _connection(server, settings, account, settings.get("LDAP_BIND_PASSWORD")) as searcher:
        if not searcher.bind():
            raise LdapUnavailable(f"The LDAP server at {settings['LDAP_URL']} refused the search "
                                  f"account {account or '(anonymous)'} "
                                  f"({searcher.result['description']}).")
        user_filter = settings["LDAP_USER_FILTER"].format(username=escape_filter_chars(username))
        found = _search(searcher, settings, settings.get("LDAP_BASE_DN", ""), user_filter,
                        SUBTREE, _person_attributes(settings))
        if len(found) != 1:  # nobody, or a filter so loose it is ambiguous
            return None
        with _connection(server, settings, found[0]["dn"], password) as person:
            if not _bound(person, settings):
                return None
        return _person(searcher, settings, username, found[0])


def _unavailable(url: str, error: LDAPException, tls: "_CheckedTls") -> LdapUnavailable:
    """A sentence for the log and the login page; a refused certificate says so, since "cannot
    be reached" would send the operator looking at the network."""
    if tls.failure:
        reason = getattr(tls.failure, "verify_message", None) or tls.failure
        return LdapUnavailable(f"The LDAP server at {url} cannot be reached securely ({reason}).")
    if isinstance(error, LDAPCommunicationError):
        return LdapUnavailable(f"The LDAP server at {url} cannot be reached ({error}).")
    return LdapUnavailable(f"Talking to the LDAP server at {url} failed ({error}).")


class _CheckedTls(Tls):
    """ldap3 turns the ssl module's own host name check off and calls ssl.match_hostname,
    which warns in Python 3.11 and is gone in 3.12; here the ssl module checks the
    certificate (against LDAP_CA_FILE, else the system's CAs) and the host name during the
    handshake, as for HTTPS."""

    failure: ssl.SSLError | None = None  # kept: ldap3 rewraps it into a message of tuples

    def wrap_socket(self, connection, do_handshake=False):
        context = ssl.create_default_context(cafile=self.ca_certs_file)
        try:
            connection.socket = context.wrap_socket(connection.socket,
                                                    server_hostname=connection.server.host,
                                                    do_handshake_on_connect=do_handshake)
        except ssl.SSLError as error:
            self.failure = error
            raise


@contextmanager
def _connection(server: Server, settings: dict, dn: str | None,
                password: str | None) -> Iterator[Connection]:
    """An open connection (TLS started when asked), not yet bound; closed afterwards whatever
    happened (ldap3 leaves the socket of a failed connect or handshake open)."""
    connection = Connection(server, user=dn, password=password,
                            authentication=SIMPLE if dn else ANONYMOUS, read_only=True,
                            # whole seconds: ldap3 packs them into SO_RCVTIMEO
                            receive_timeout=math.ceil(settings["LDAP_TIMEOUT"]),
                            raise_exceptions=False)
    try:
        connection.open()
        if settings["LDAP_STARTTLS"] and not connection.start_tls():
            raise LdapUnavailable(f"The LDAP server at {settings['LDAP_URL']} refused StartTLS "
                                  f"({connection.result['description']}).")
        yield connection
    finally:
        with suppress(LDAPException):  # already broken: the error that broke it is reported
            connection.unbind()
        if connection.socket:
            connection.socket.close()


def _bound(connection: Connection, settings: dict) -> bool:
    """Bind; False when the directory refuses the password (or knows no such DN: the same
    code, 49), LdapUnavailable when it refuses for another reason."""
    if connection.bind():
        return True
    if connection.result["result"] == INVALID_CREDENTIALS:
        return False
    raise LdapUnavailable(f"The LDAP server at {settings['LDAP_URL']} refused a login "
                          f"({connection.result['description']}).")


def _search(connection: Connection, settings: dict, base: str, search_filter: str, scope: str,
            attributes: list[str]) -> list[dict]:
    """The entries found, each a dict with "dn" and "attributes". A failed search (a wrong
    base DN, a malformed filter) is the operator's to fix, so it is LdapUnavailable."""
    connection.search(base, search_filter, scope, attributes=attributes,
                      time_limit=math.ceil(settings["LDAP_TIMEOUT"]))
    if connection.result["result"] != SUCCESS:
        raise LdapUnavailable(f"The LDAP search for {search_filter} under {base or '(root)'} at "
                              f"{settings['LDAP_URL']} failed "
                              f"({connection.result['description']}).")
    return [entry for entry in connection.response if entry["type"] == "searchResEntry"]


def _person_attributes(settings: dict) -> list[str]:
    return [settings["LDAP_ATTR_NAME"], settings["LDAP_ATTR_EMAIL"]]


def _person(connection: Connection, settings: dict, username: str, entry: dict) -> LdapPerson:
    attributes = entry["attributes"]
    return LdapPerson(
        username=username,
        display_name=_first(attributes, settings["LDAP_ATTR_NAME"]) or username,
        email=_first(attributes, settings["LDAP_ATTR_EMAIL"]),
        groups=_groups(connection, settings, entry["dn"]),
    )


def _groups(connection: Connection, settings: dict, dn: str) -> tuple[str, ...]:
    """The `cn` of each group naming the person, sorted; none without LDAP_GROUP_BASE_DN."""
    if not settings.get("LDAP_GROUP_BASE_DN"):
        return ()
    group_filter = settings["LDAP_GROUP_FILTER"].format(dn=escape_filter_chars(dn))
    found = _search(connection, settings, settings["LDAP_GROUP_BASE_DN"], group_filter, SUBTREE,
                    ["cn"])
    return tuple(sorted(name for entry in found if (name := _first(entry["attributes"], "cn"))))


def _first(attributes: dict, name: str) -> str | None:
    """The first value of an attribute (ldap3 gives lists without the server's schema)."""
    value = attributes.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None
