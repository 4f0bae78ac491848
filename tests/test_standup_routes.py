"""Stand-up pages and actions over HTTP, and the focus reaching every joined view of the board."""

import pytest
from flask import g

from app.cards.moves import move_card
from app.extensions import db
from tests import factories as make
from tests.conftest import CsrfClient
from tests.test_realtime import connect, joined, received  # noqa: F401  (fixture)
from tests.test_realtime import logged_in as _logged_in

HX = {"HX-Request": "true"}


@pytest.fixture
def desk(app, simple):
    """SIM with three cards in Doing; vic is a viewer."""
    board, ann, bob = simple
    make.member(board, make.user("vic"), "viewer")
    doing = make.column(board, "Doing")
    for title in ("First", "Second", "Third"):
        card = make.card(board, ann, title)
        move_card(card, ann, column=doing)
    db.session.commit()
    return board, ann, bob


class Browser(CsrfClient):
    """One person's browser. In tests every request shares the fixture's app context, so `g`
    outlives requests: Flask-Login's current user and Flask-WTF's CSRF token cached on it are
    dropped before each request, as a real server starts each request afresh."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        return super().open(*args, **kwargs)


def logged_in(app, username):
    app.test_client_class = Browser
    return _logged_in(app, username)


def start(browser, key="SIM"):
    return browser.post(f"/boards/{key}/standup", headers=HX)


def test_a_member_starts_the_stand_up_and_gets_the_strip(app, desk):
    ann = logged_in(app, "ann")
    response = start(ann)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="standup-bar"' in html and 'data-facilitator="ann"' in html
    assert "1 of 3" in html
    page = ann.get("/boards/SIM").get_data(as_text=True)
    assert 'data-facilitator="ann"' in page  # the board page shows it too


def test_a_second_facilitator_is_told_who_is_facilitating(app, desk):
    start(logged_in(app, "ann"))
    response = start(logged_in(app, "bob"))
    assert response.status_code == 422
    assert "ann is already facilitating" in response.get_data(as_text=True)


def test_viewers_cannot_start_and_non_facilitators_cannot_step(app, desk):
    assert start(logged_in(app, "vic")).status_code == 403
    ann = logged_in(app, "ann")
    standup_id = _standup_id(start(ann))
    bob = logged_in(app, "bob")
    refused = bob.post(f"/standups/{standup_id}/next", headers=HX)
    assert refused.status_code == 403
    assert "Only the facilitator" in refused.get_data(as_text=True)
    stepped = ann.post(f"/standups/{standup_id}/next", headers=HX)
    assert "2 of 3" in stepped.get_data(as_text=True)


def test_ending_twice_and_empty_notes_are_refused(app, desk):
    ann = logged_in(app, "ann")
    standup_id = _standup_id(start(ann))
    empty = ann.post(f"/standups/{standup_id}/notes", data={"body": " "}, headers=HX)
    assert empty.status_code == 422 and "cannot be empty" in empty.get_data(as_text=True)
    ended = ann.post(f"/standups/{standup_id}/end", headers=HX)
    assert ended.headers["HX-Redirect"] == f"/standups/{standup_id}"
    again = ann.post(f"/standups/{standup_id}/end", headers=HX)
    assert again.status_code == 422 and "already ended" in again.get_data(as_text=True)
    summary = ann.get(f"/standups/{standup_id}").get_data(as_text=True)
    assert "Cards discussed" in summary and "First" in summary
    assert "Stand-ups" in ann.get("/boards/SIM/standups").get_data(as_text=True)


def test_the_focus_reaches_every_view_of_the_board_after_commit(app, desk, connect):  # noqa: F811
    board, ann_user, bob_user = desk
    watcher = joined(connect, bob_user, "SIM")
    ann = logged_in(app, "ann")
    standup_id = _standup_id(start(ann))
    messages = received(watcher)
    assert [m["type"] for m in messages][-2:] == ["standup.started", "standup.focus"]
    assert 'id="standup-bar"' in messages[-1]["html"]
    ann.post(f"/standups/{standup_id}/next", headers=HX)
    [focus] = received(watcher)
    assert focus["type"] == "standup.focus" and "2 of 3" in focus["html"]
    assert focus["card"] == focus["html"].split('data-focus-card="')[1].split('"')[0]


def test_the_facilitators_answer_shows_the_strip_every_other_view_was_sent(app, desk,
                                                                           connect):  # noqa: F811
    board, ann_user, bob_user = desk
    watcher = joined(connect, bob_user, "SIM")
    ann = logged_in(app, "ann")
    standup_id = _standup_id(start(ann))
    received(watcher)
    for step in ("next", "next", "previous"):
        answer = ann.post(f"/standups/{standup_id}/{step}", headers=HX).get_data(as_text=True)
        [focus] = received(watcher)
        pushed = focus["html"].replace('hx-swap-oob="true"', "", 1)
        assert answer.strip() == pushed.strip()  # drawn once: the same focus, timers, next card
    assert "2 of 3" in answer


def test_async_updates_are_saved_and_refused_when_empty(app, desk):
    bob = logged_in(app, "bob")
    refused = bob.post("/boards/SIM/standup/update", data={"yesterday": "", "today": ""})
    assert refused.status_code == 422
    saved = bob.post("/boards/SIM/standup/update", data={"today": "Renew the certificate"})
    assert saved.status_code == 200 and "Saved" in saved.get_data(as_text=True)
    assert "Renew the certificate" in bob.get("/boards/SIM/standup/update").get_data(as_text=True)


def _standup_id(response) -> int:
    html = response.get_data(as_text=True)
    return int(html.split('data-standup="')[1].split('"')[0])
