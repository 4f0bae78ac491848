"""Single sign-on in Chromium against a real OpenID Connect provider (npm oidc-provider, started
here): log in, log out (ended at the provider too), log in again as the same person; groups set
teams; an invitation joined by single sign-on; and the provider down, answering with a
signature that does not check out, or with an ID token made for another client, refused with a
sentence and nobody logged in."""

import shutil
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from app.accounts.models import ExternalIdentity, Team, User
from app.accounts.services import create_team
from app.boards.invites import invite
from app.boards.models import BoardMember
from app.config import team_map
from app.extensions import db
from tests import factories as make
from tests.conftest import make_app
from tests.oidc_provider import AudienceSwap, forged_discovery, start_oidc_provider
from tests.servers import free_port, served

pytestmark = pytest.mark.e2e
ACCOUNTS = {
    "lena": {"password": "lena-idp-pw", "email": "lena@example.org", "name": "Lena Hart",
             "groups": ["sre", "everyone"]},
    "ann": {"password": "ann-idp-pw", "email": "ann@example.org", "name": "Ann at the IdP",
            "groups": []},
}


@contextmanager
def sso_site(tmp_path, sqlite_template, *, discovery=None, extra_client=None, **settings):
    """Swarmboard served with single sign-on at a provider started for it; yields
    (app, base URL, provider). `discovery` swaps the discovery URL (a forged one)."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    path = tmp_path / "sso.db"
    shutil.copy(sqlite_template, path)
    oidc = {"discovery_url": f"{issuer}/.well-known/openid-configuration",
            "client_id": "swarmboard", "client_secret": "sso-test-secret", "name": "Test IdP",
            "scopes": "openid email profile groups", "auto_provision": False,
            "link_by_email": True, "groups_claim": "groups", "team_map": None, **settings}
    if discovery is not None:
        oidc["discovery_url"] = discovery
    app = make_app(f"sqlite:///{path}", OIDC=oidc)
    with served(app) as base:
        client = {"client_id": "swarmboard", "client_secret": "sso-test-secret",
                  "redirect_uris": [f"{base}/login/sso/callback"],
                  "post_logout_redirect_uris": [f"{base}/login"]}
        clients = [client] + ([{**client, **extra_client}] if extra_client else [])
        with start_oidc_provider(clients, ACCOUNTS, port=port) as provider:
            yield app, base, provider
    with app.app_context():
        db.engine.dispose()


def sign_in_at_provider(page, base: str, login: str, password: str, start: str = "/login"):
    page.goto(f"{base}{start}")
    page.click("text=Sign in with Test IdP")
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_log_in_out_and_in_again_as_the_same_person_with_teams_from_groups(
        tmp_path, sqlite_template, new_page):
    with sso_site(tmp_path, sqlite_template, auto_provision=True,
                  team_map=team_map("sre=Site Reliability")) as (app, base, provider):
        with app.app_context():
            create_team("Site Reliability", [])
            db.session.commit()
        page = new_page()
        sign_in_at_provider(page, base, "lena", "lena-idp-pw")
        page.wait_for_url(f"{base}/")
        assert "Lena Hart" in page.inner_text("nav.topnav")
        with app.app_context():
            lena = db.session.scalar(select(User).where(User.username == "lena"))
            assert (lena.email, lena.can_use_password) == ("lena@example.org", False)
            team = db.session.scalar(select(Team))
            assert [m.user.username for m in team.members] == ["lena"]

        page.click("nav.topnav button:has-text('Log out')")
        page.wait_for_url(f"{base}/login")  # back from the provider's logout
        page.goto(f"{base}/")
        assert page.url.startswith(f"{base}/login")
        # The provider's session ended too: it asks for the password again.
        sign_in_at_provider(page, base, "lena", "lena-idp-pw")
        page.wait_for_url(f"{base}/")
        assert count(app, User) == 1
        assert count(app, ExternalIdentity) == 1
        assert page.errors == []


def test_an_existing_account_with_the_same_confirmed_address_is_linked(
        tmp_path, sqlite_template, new_page):
    with sso_site(tmp_path, sqlite_template) as (app, base, provider):
        with app.app_context():
            ann = make.user("ann", display_name="Ann Archer")
            ann.email, ann.email_verified_at = "ann@example.org", ann.created_at
            db.session.commit()
        page = new_page()
        sign_in_at_provider(page, base, "ann", "ann-idp-pw")
        page.wait_for_url(f"{base}/")
        assert "Ann Archer" in page.inner_text("nav.topnav")
        assert count(app, User) == 1


def test_someone_unknown_is_refused_unless_they_bring_an_invitation(
        tmp_path, sqlite_template, new_page):
    with sso_site(tmp_path, sqlite_template) as (app, base, provider):
        page = new_page()
        sign_in_at_provider(page, base, "lena", "lena-idp-pw")
        page.wait_for_selector("text=Single sign-on did not work")
        assert "Ask a board owner for an invitation" in page.inner_text("main")
        assert count(app, User) == 0

        with app.app_context():
            owner = make.user("olga")
            board = make.board(owner, key="OPS", name="Operations")
            _record, url = invite(board, owner, role="member", uses=1)
            db.session.commit()
            board_id = board.id
        page = new_page()
        page.goto(url.replace("http://127.0.0.1:5000", base))
        page.click("text=Sign in with Test IdP and join")
        page.fill("input[name=login]", "lena")
        page.fill("input[name=password]", "lena-idp-pw")
        page.click("button[type=submit]")
        page.wait_for_selector("text=Join as Lena Hart")
        page.click("text=Join as Lena Hart")
        page.wait_for_url(f"{base}/boards/OPS")
        with app.app_context():
            lena = db.session.scalar(select(User).where(User.username == "lena"))
            assert db.session.get(BoardMember, (board_id, lena.id)).role == "member"


def test_a_provider_that_is_down_is_said_so(tmp_path, sqlite_template, new_page):
    with sso_site(tmp_path, sqlite_template) as (app, base, provider):
        provider.stop()
        page = new_page()
        page.goto(f"{base}/login")
        with page.expect_response(f"{base}/login/sso") as answer:
            page.click("text=Sign in with Test IdP")
        assert answer.value.status == 503
        assert "cannot be reached" in page.inner_text("main")


def test_an_answer_whose_signature_does_not_check_out_logs_nobody_in(
        tmp_path, sqlite_template, new_page):
    with start_oidc_provider([{"client_id": "x", "client_secret": "y",
                               "redirect_uris": ["http://127.0.0.1/x"]}], {}) as stranger:
        # The site is given keys that are not the provider's: its ID token must be refused.
        forged_port = free_port()
        discovery = f"http://127.0.0.1:{forged_port}/.well-known/openid-configuration"
        with sso_site(tmp_path, sqlite_template, discovery=discovery,
                      auto_provision=True) as (app, base, provider), \
                forged_discovery(provider, stranger, port=forged_port):
            page = new_page()
            sign_in_at_provider(page, base, "lena", "lena-idp-pw")
            page.wait_for_selector("text=could not be trusted")
            assert count(app, User) == 0
            page.goto(f"{base}/")
            assert page.url.startswith(f"{base}/login")


def test_an_id_token_for_another_client_logs_nobody_in(tmp_path, sqlite_template, new_page):
    swap_port = free_port()
    discovery = f"http://127.0.0.1:{swap_port}/.well-known/openid-configuration"
    other = {"client_id": "another-app", "client_secret": "another-secret"}
    with sso_site(tmp_path, sqlite_template, discovery=discovery, extra_client=other,
                  auto_provision=True) as (app, base, provider), \
            AudienceSwap(provider, ("another-app", "another-secret"), port=swap_port):
        page = new_page()
        sign_in_at_provider(page, base, "lena", "lena-idp-pw")
        page.wait_for_selector("text=could not be trusted")
        assert count(app, User) == 0
