"""A swarm to test the room with, and browsers logged in as its people."""

from flask import g

from app.accounts.services import set_skill
from app.cards.services import update_card
from app.extensions import db
from app.swarms import services as swarms
from tests import factories as make
from tests.conftest import CsrfClient


def build_room():
    """SIM: ann owns the board and card SIM-1 and started a swarm on it (postfix, dns);
    bob is a member; vic a viewer; xena is from another team (board NET) and knows postfix;
    out is nobody's."""
    ann, bob, vic, xena, out = (
        make.user(n, display_name=n.capitalize()) for n in ("ann", "bob", "vic", "xena", "out")
    )
    board = make.board(ann, "simple", key="SIM")
    make.member(board, bob)
    make.member(board, vic, "viewer")
    other = make.board(xena, "simple", key="NET")
    card = make.card(board, ann, "Mail queue stuck on relay-2")
    update_card(card, ann, owner="ann")
    set_skill(xena, "postfix", 5)
    set_skill(bob, "dns", 3)
    swarm = swarms.start_swarm(card, ann, type="backlog", help_needed="Mails pile up",
                               tried="Restarted postfix", skills="postfix, dns")
    db.session.commit()
    people = {u.username: u for u in (ann, bob, vic, xena, out)}
    return board, other, card, swarm, people


def forget_cached_person() -> None:
    """Requests in a test share its app context, so `g` would carry one browser's logged-in
    user (Flask-Login) and CSRF token (Flask-WTF) into another browser's request."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


class Browser(CsrfClient):
    """One person's browser among several in a test."""

    def open(self, *args, **kwargs):
        forget_cached_person()
        return super().open(*args, **kwargs)


def as_user(app, username: str):
    """A browser of its own, logged in."""
    browser = Browser(app, app.response_class, use_cookies=True)
    response = browser.post("/login", data={"username": username, "password": make.PASSWORD})
    assert response.status_code in (302, 303)
    browser.fetch_csrf_token()
    return browser
