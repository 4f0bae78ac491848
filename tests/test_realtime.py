"""The live board's Socket.IO contract, through Flask-SocketIO's test client: who may connect and
join, pushes after commit (never after a rollback), catch-up by sequence number, bad input,
presence and editing markers. Runs on SQLite and PostgreSQL like every `app` test."""

import pytest

from app.accounts.services import create_token
from app.boards.services import add_column, update_column
from app.cards.moves import move_card
from app.cards.services import create_card, update_card
from app.errors import WipLimitReached
from app.extensions import db, socketio
from app.realtime import sockets
from app.web.live import CATCH_UP_LIMIT
from tests import factories as make

HX = {"HX-Request": "true"}


def token_for(user) -> str:
    token = create_token(user, "socket test")
    db.session.commit()
    return token


def logged_in(app, username: str):
    """A Flask test client with its own session, logged in as `username`."""
    browser = app.test_client()
    response = browser.post("/login", data={"username": username, "password": make.PASSWORD})
    assert response.status_code in (302, 303)
    browser.fetch_csrf_token()
    return browser


@pytest.fixture
def connect(app):
    """Open Socket.IO test clients (by API token or a logged-in browser); all closed after."""
    opened = []

    def _connect(token: str | None = None, browser=None, auth=None):
        if auth is None and token is not None:
            auth = {"token": token}
        client = socketio.test_client(app, flask_test_client=browser, auth=auth)
        opened.append(client)
        return client

    yield _connect
    for client in opened:
        if client.is_connected():
            client.disconnect()


def joined(connect, user, board_key: str):
    """A socket for `user`, joined to `board_key`, with the join's own messages drained."""
    client = connect(token_for(user))
    ack = client.emit("join", {"board": board_key}, callback=True)
    assert ack["ok"], ack
    client.get_received()
    return client


def received(client, name: str = "board_event") -> list[dict]:
    return [message["args"][0] for message in client.get_received() if message["name"] == name]


def errors_of(client) -> list[str]:
    return [message["error"] for message in received(client, "error")]


# --- connecting and joining ---------------------------------------------------------------


def test_connect_without_login_or_token_is_refused(connect, simple):
    assert not connect().is_connected()


def test_connect_with_an_unknown_token_is_refused(connect, simple):
    assert not connect("sb_not-a-real-token").is_connected()
    assert not connect(auth={"token": 42}).is_connected()


def test_connect_with_an_api_token_and_join_answers_the_latest_seq(connect, simple):
    board, ann, bob = simple
    before = board.last_seq
    make.card(board, ann, "Printer on fire")
    client = connect(token_for(bob))
    assert client.is_connected()

    ack = client.emit("join", {"board": "SIM"}, callback=True)

    assert ack == {"ok": True, "seq": before + 1}
    assert board.last_seq == before + 1


def test_connect_with_a_logged_in_browser_session_and_join(app, connect, simple):
    board, ann, bob = simple
    client = connect(browser=logged_in(app, "bob"))
    assert client.is_connected()
    ack = client.emit("join", {"board": "sim"}, callback=True)
    assert ack == {"ok": True, "seq": board.last_seq}


def test_a_viewer_may_join(connect, simple):
    board, ann, bob = simple
    vic = make.user("vic")
    make.member(board, vic, "viewer")
    assert joined(connect, vic, "SIM").is_connected()


@pytest.mark.parametrize(
    ("payload", "sentence"),
    [
        ({"board": "SIM"}, "There is no board SIM."),
        ({"board": "NOPE"}, "There is no board NOPE."),
        ("SIM", 'needs a payload like {"board": "<KEY>"}'),
        ({"board": ""}, 'needs a payload like {"board": "<KEY>"}'),
        ({"board": ["SIM"]}, 'needs a payload like {"board": "<KEY>"}'),
        ({}, 'needs a payload like {"board": "<KEY>"}'),
    ],
)
def test_refused_join_answers_a_sentence_and_an_error_event_and_joins_nothing(
    connect, simple, payload, sentence
):
    board, ann, bob = simple
    olga = make.user("olga")  # not a member of SIM, so SIM does not exist for her
    client = connect(token_for(olga))

    ack = client.emit("join", payload, callback=True)

    assert ack["ok"] is False
    assert sentence in ack["error"]
    assert errors_of(client) == [ack["error"]]
    make.card(board, ann, "Secret incident")
    assert client.get_received() == []


def test_join_without_any_payload_is_refused(connect, simple):
    board, ann, bob = simple
    client = connect(token_for(bob))
    ack = client.emit("join", callback=True)
    assert ack["ok"] is False and "payload" in ack["error"]
    assert len(errors_of(client)) == 1


# --- pushes after commit ------------------------------------------------------------------


def test_a_committed_move_reaches_every_joined_view_with_its_seq_and_fragments(connect, simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer on fire")
    todo, doing = make.column(board, "To do"), make.column(board, "Doing")
    lane = board.lanes[0]
    views = [joined(connect, ann, "SIM"), joined(connect, bob, "SIM")]
    before = board.last_seq

    move_card(card, bob, column=doing)
    db.session.commit()

    for view in views:
        [message] = received(view)
        assert message["board"] == "SIM"
        assert message["seq"] == board.last_seq == before + 1
        assert message["type"] == "card.moved"
        assert message["card"] == card.key == "SIM-1"
        assert message["actor"] == "bob"
        assert (message["from_column"], message["to_column"]) == (todo.id, doing.id)
        html = message["html"]
        # The card leaves its old place and lands at the end of Doing (empty until now) ...
        assert f'hx-swap-oob="delete:#card-{card.key}"' in html
        assert f'hx-swap-oob="beforeend:#cell-{doing.id}-{lane.id}"' in html
        assert html.count(f'id="card-{card.key}"') == 1 and "Printer on fire" in html
        # ... and both counters change; nothing else is sent.
        heads = [f'id="col-head-{column.id}"' in html for column in board.columns]
        assert heads == [column in (todo, doing) for column in board.columns]
        assert "cell-" not in html.replace(f"#cell-{doing.id}-{lane.id}", "")


def test_a_card_moved_up_its_cell_is_placed_before_the_card_it_now_precedes(connect, simple):
    board, ann, bob = simple
    first, second, third = (make.card(board, ann, title) for title in ("one", "two", "three"))
    view = joined(connect, ann, "SIM")

    move_card(third, bob, column=make.column(board, "To do"), position=0)
    db.session.commit()

    [message] = received(view)
    html = message["html"]
    assert f'hx-swap-oob="delete:#card-{third.key}"' in html
    assert f'hx-swap-oob="beforebegin:#card-{first.key}"' in html
    assert "col-head" not in html  # the same cell: no counter changed


def test_a_card_finished_redraws_the_done_cell_which_shows_recent_finishes_only(connect, simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer on fire")
    done, lane = make.column(board, "Done"), board.lanes[0]
    view = joined(connect, ann, "SIM")

    move_card(card, bob, column=done)
    db.session.commit()

    [message] = received(view)
    assert f'id="cell-{done.id}-{lane.id}"' in message["html"]
    assert f'hx-swap-oob="delete:#card-{card.key}"' in message["html"]


def test_several_events_in_one_commit_arrive_in_order_and_only_the_last_carries_html(
    connect, simple
):
    board, ann, bob = simple
    view = joined(connect, ann, "SIM")
    before = board.last_seq

    card = create_card(board, bob, title="Disk full on db01")
    move_card(card, bob, column=make.column(board, "Doing"))
    update_card(card, bob, title="Disk full on db01 (prod)")
    db.session.commit()

    messages = received(view)
    assert [m["seq"] for m in messages] == [before + 1, before + 2, before + 3]
    assert [m["type"] for m in messages] == ["card.created", "card.moved", "card.updated"]
    assert {m["card"] for m in messages} == {card.key}
    assert ["html" in m for m in messages] == [False, False, True]
    assert "Disk full on db01 (prod)" in messages[-1]["html"]


def test_a_move_over_http_is_pushed_to_the_sockets_on_the_board(app, connect, login, simple):
    board, ann, bob = simple
    card = make.card(board, ann, "VPN drops every hour")
    view = joined(connect, ann, "SIM")
    browser = login("bob")

    response = browser.post(f"/cards/{card.key}/move", data={"column": "Doing"}, headers=HX)

    assert response.status_code == 200
    [message] = received(view)
    assert (message["seq"], message["type"], message["card"]) == (
        board.last_seq,
        "card.moved",
        card.key,
    )
    assert f"cell-{make.column(board, 'Doing').id}-" in message["html"]


def test_a_view_of_another_board_receives_nothing(connect, simple):
    board, ann, bob = simple
    make.board(ann, "simple", key="OTHER")
    elsewhere = joined(connect, ann, "OTHER")
    here = joined(connect, ann, "SIM")

    make.card(board, bob, "Only on SIM")

    assert received(elsewhere) == [] and elsewhere.get_received() == []
    assert [m["type"] for m in received(here)] == ["card.created"]


def test_a_connected_socket_that_has_not_joined_receives_nothing(connect, simple):
    board, ann, bob = simple
    client = connect(token_for(ann))
    make.card(board, bob, "Nobody asked")
    assert client.get_received() == []


def test_a_move_refused_by_a_wip_limit_and_rolled_back_pushes_nothing(connect, simple):
    board, ann, bob = simple
    doing = make.column(board, "Doing")
    update_column(board, ann, doing, wip_limit=1, wip_policy="hard")
    db.session.commit()
    first, second = make.card(board, ann, "first"), make.card(board, ann, "second")
    move_card(first, bob, column=doing)
    db.session.commit()
    view = joined(connect, ann, "SIM")
    seq_before = board.last_seq

    with pytest.raises(WipLimitReached):
        move_card(second, bob, column=doing)
    db.session.rollback()

    assert view.get_received() == []
    update_card(second, bob, title="second, waiting for room")
    db.session.commit()
    assert [(m["seq"], m["type"]) for m in received(view)] == [(seq_before + 1, "card.updated")]


def test_a_change_rolled_back_after_succeeding_pushes_nothing_then_or_later(connect, simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Flaky backup")
    view = joined(connect, ann, "SIM")
    seq_before = board.last_seq

    move_card(card, bob, column=make.column(board, "Done"))
    db.session.flush()
    db.session.rollback()
    assert view.get_received() == []

    # The next commit pushes its own event only: the dropped one does not ride along.
    update_card(card, bob, title="Flaky backup job")
    db.session.commit()
    [message] = received(view)
    assert (message["seq"], message["type"]) == (seq_before + 1, "card.updated")
    assert f"cell-{make.column(board, 'To do').id}-" in message["html"]


def test_a_commit_without_events_pushes_nothing(connect, simple):
    board, ann, bob = simple
    view = joined(connect, ann, "SIM")
    token_for(bob)  # a commit that changes no board
    assert view.get_received() == []


def test_a_column_change_asks_views_to_refetch_the_board(connect, simple):
    board, ann, bob = simple
    view = joined(connect, bob, "SIM")

    update_column(board, ann, make.column(board, "Doing"), wip_limit=5)
    add_column(board, ann, name="Review")
    db.session.commit()

    messages = received(view)
    assert [m["type"].split(".")[0] for m in messages] == ["column", "column"]
    assert messages[-1]["refresh"] is True
    assert messages[-1]["seq"] == board.last_seq
    assert "html" not in messages[-1]


# --- catch-up -----------------------------------------------------------------------------


def test_catch_up_over_the_socket_returns_the_missed_events_in_order(connect, simple):
    board, ann, bob = simple
    client = joined(connect, bob, "SIM")
    since = board.last_seq
    for title in ("one", "two", "three"):
        make.card(board, ann, title)
    client.get_received()

    answer = client.emit("catch_up", {"board": "SIM", "since": since}, callback=True)

    assert answer["ok"] is True and answer["more"] is False
    assert answer["seq"] == board.last_seq == since + 3
    assert [e["seq"] for e in answer["events"]] == [since + 1, since + 2, since + 3]
    assert [e["card"] for e in answer["events"]] == ["SIM-1", "SIM-2", "SIM-3"]
    assert (
        client.emit("catch_up", {"board": "SIM", "since": board.last_seq}, callback=True)["events"]
        == []
    )


@pytest.mark.parametrize(
    ("since", "sentence"),
    [
        (-1, '"since" must be a sequence number'),
        ("3", '"since" must be a sequence number'),
        (2.5, '"since" must be a sequence number'),
        (True, '"since" must be a sequence number'),
        (None, '"since" must be a sequence number'),
        (99, "Sequence number 99 is ahead of SIM's latest"),
    ],
)
def test_catch_up_with_a_bad_or_stale_seq_is_refused_with_a_sentence(
    connect, simple, since, sentence
):
    board, ann, bob = simple
    client = joined(connect, bob, "SIM")
    answer = client.emit("catch_up", {"board": "SIM", "since": since}, callback=True)
    assert answer["ok"] is False
    assert sentence in answer["error"]
    assert errors_of(client) == [answer["error"]]


def test_catch_up_on_a_board_one_may_not_see_is_refused(connect, simple):
    board, ann, bob = simple
    client = connect(token_for(make.user("olga")))
    answer = client.emit("catch_up", {"board": "SIM", "since": 0}, callback=True)
    assert answer == {"ok": False, "error": "There is no board SIM."}


def test_http_catch_up_replays_the_same_answer_every_time(client, login, simple):
    board, ann, bob = simple
    since = board.last_seq
    card = make.card(board, ann, "Printer on fire")
    move_card(card, bob, column=make.column(board, "Doing"))
    db.session.commit()
    login("bob")

    first = client.get(f"/boards/SIM/live?since={since}")
    second = client.get(f"/boards/SIM/live?since={since}")

    assert first.status_code == 200
    body = first.get_json()
    assert body == second.get_json()
    assert body["seq"] == board.last_seq
    assert body["refresh"] is False
    assert [(e["seq"], e["type"], e["card"]) for e in body["events"]] == [
        (since + 1, "card.created", card.key),
        (since + 2, "card.moved", card.key),
    ]
    assert f'beforeend:#cell-{make.column(board, "Doing").id}-{board.lanes[0].id}"' in body["html"]
    assert f'id="card-{card.key}"' in body["html"]
    assert body["html"] == body["events"][-1]["html"]


def test_http_catch_up_carries_the_same_fragments_as_the_push(app, connect, login, simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer on fire")
    view = joined(connect, ann, "SIM")
    since = board.last_seq
    browser = login("bob")
    browser.post(f"/cards/{card.key}/move", data={"column": "Done"}, headers=HX)
    [pushed] = received(view)

    caught_up = browser.get(f"/boards/SIM/live?since={since}").get_json()

    assert caught_up["events"] == [pushed]
    assert caught_up["html"] == pushed["html"]


def test_http_catch_up_across_a_column_change_asks_for_a_refresh(client, login, simple):
    board, ann, bob = simple
    since = board.last_seq
    make.card(board, ann, "Printer on fire")
    add_column(board, ann, name="Review")
    db.session.commit()
    login("bob")
    body = client.get(f"/boards/SIM/live?since={since}").get_json()
    assert body["refresh"] is True and body["seq"] == board.last_seq
    assert [e["type"] for e in body["events"]] == ["card.created", "column.added"]


def test_http_catch_up_past_the_limit_asks_for_a_refresh(client, login, simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Renamed often")
    since = board.last_seq
    for number in range(CATCH_UP_LIMIT + 1):
        update_card(card, ann, title=f"Renamed {number} times")
    db.session.commit()
    login("bob")

    too_far = client.get(f"/boards/SIM/live?since={since}").get_json()
    near = client.get(f"/boards/SIM/live?since={since + 1}").get_json()

    assert too_far == {"board": "SIM", "seq": board.last_seq, "refresh": True, "events": []}
    assert len(near["events"]) == CATCH_UP_LIMIT and near["refresh"] is False
    assert "Renamed 200 times" in near["html"]


def test_http_catch_up_when_up_to_date_or_ahead(client, login, simple):
    board, ann, bob = simple
    login("bob")
    latest = board.last_seq

    current = client.get(f"/boards/SIM/live?since={latest}").get_json()
    assert current == {"board": "SIM", "seq": latest, "html": "", "refresh": False, "events": []}

    ahead = client.get(f"/boards/SIM/live?since={latest + 10}").get_json()
    assert ahead["refresh"] is True and ahead["seq"] == latest and ahead["events"] == []


@pytest.mark.parametrize("since", ["", "abc", "-1", "1.5"])
def test_http_catch_up_with_a_malformed_seq_is_422(client, login, simple, since):
    login("bob")
    response = client.get(f"/boards/SIM/live?since={since}")
    assert response.status_code == 422


def test_http_catch_up_for_a_non_member_is_404(client, login, simple):
    make.user("olga")
    login("olga")
    assert client.get("/boards/SIM/live?since=0").status_code == 404


def test_http_catch_up_needs_a_login(client, simple):
    response = client.get("/boards/SIM/live?since=0")
    assert response.status_code in (302, 401)


# --- bad input ----------------------------------------------------------------------------


def test_an_unknown_event_gets_an_error_event_with_a_reason(connect, simple):
    board, ann, bob = simple
    client = connect(token_for(bob))
    ack = client.emit("delete_everything", {"board": "SIM"}, callback=True)
    assert ack["ok"] is False
    [reason] = errors_of(client)
    assert "Unknown event 'delete_everything'" in reason
    assert client.is_connected()


def test_a_socket_that_keeps_sending_bad_messages_is_disconnected_others_are_served(
    connect, simple
):
    board, ann, bob = simple
    abuser = joined(connect, bob, "SIM")
    bystander = joined(connect, ann, "SIM")

    for _ in range(sockets.MAX_ERRORS):
        abuser.emit("join", {"board": "NOPE"})
    assert abuser.is_connected()
    abuser.emit("nonsense")
    assert not abuser.is_connected()

    make.card(board, ann, "Still live")
    assert [m["type"] for m in received(bystander)] == ["card.created"]
    assert bystander.emit("join", {"board": "SIM"}, callback=True)["ok"] is True


# --- presence and editing -----------------------------------------------------------------


def presence_of(client) -> list[str]:
    updates = received(client, "presence")
    assert updates, "expected a presence update"
    return [viewer["username"] for viewer in updates[-1]["viewers"]]


def test_presence_lists_who_is_looking_and_follows_them_leaving(app, connect, simple):
    board, ann, bob = simple
    ann_view = connect(browser=logged_in(app, "ann"))
    ann_view.emit("join", {"board": "SIM"})
    assert presence_of(ann_view) == ["ann"]

    bob_view = connect(token_for(bob))
    bob_view.emit("join", {"board": "SIM"})
    assert presence_of(ann_view) == ["ann", "bob"]
    assert presence_of(bob_view) == ["ann", "bob"]

    bob_view.disconnect()
    assert presence_of(ann_view) == ["ann"]

    # ann on a second screen is still one viewer: that screen learns who is here, the room
    # hears nothing new, and nothing when it leaves either.
    second_ann = connect(token_for(ann))
    second_ann.emit("join", {"board": "SIM"})
    assert presence_of(second_ann) == ["ann"]
    assert received(ann_view, "presence") == []
    second_ann.emit("leave", {"board": "SIM"}, callback=True)
    assert received(ann_view, "presence") == []

    bob_again = joined(connect, bob, "SIM")
    ann_view.disconnect()  # ann's last screen: now the room hears
    assert presence_of(bob_again) == ["bob"]


def test_presence_carries_names_and_initials(connect, simple):
    board, ann, bob = simple
    client = connect(token_for(bob))
    client.emit("join", {"board": "SIM"})
    [update] = received(client, "presence")
    assert update["board"] == "SIM"
    [person] = update["viewers"]
    assert person["username"] == "bob"
    assert person["initials"] == bob.initials and person["name"] == bob.display_name


def test_editing_is_shown_to_the_others_on_the_board_not_the_editor(connect, simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer on fire")
    editor = joined(connect, bob, "SIM")
    other = joined(connect, ann, "SIM")

    ack = editor.emit("editing", {"card": card.key, "editing": True}, callback=True)

    assert ack == {"ok": True}
    assert received(editor, "editing") == []
    [marker] = received(other, "editing")
    assert marker == {
        "board": "SIM",
        "card": card.key,
        "editing": True,
        "username": "bob",
        "name": bob.display_name,
        "initials": bob.initials,
    }


def test_editing_a_card_one_may_not_see_is_refused(connect, simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer on fire")
    other = joined(connect, ann, "SIM")
    olga = connect(token_for(make.user("olga")))

    ack = olga.emit("editing", {"card": card.key, "editing": True}, callback=True)
    assert ack["ok"] is False and errors_of(olga) == [ack["error"]]
    malformed = olga.emit("editing", "SIM-1", callback=True)
    assert malformed["ok"] is False and '"editing" needs' in malformed["error"]
    assert received(other, "editing") == []


def test_a_commit_nobody_watches_is_not_rendered_but_says_catch_up(app, simple):
    """No viewer, no HTML rendered; a view that joins meanwhile is told to catch up."""
    from app.events.services import events_since
    from app.realtime.payloads import board_messages

    board, ann, bob = simple
    card = make.card(board, ann, "unwatched")
    move_card(card, bob, column=make.column(board, "Doing"))
    db.session.commit()
    last = events_since(board, board.last_seq - 1)
    unrendered = board_messages(board, last, render=False)
    assert unrendered[-1]["catch_up"] is True and "html" not in unrendered[-1]
    with app.test_request_context("/"):
        rendered = board_messages(board, last)
    assert f'id="card-{card.key}"' in rendered[-1]["html"]
    assert "catch_up" not in rendered[-1]


def test_removing_a_member_cuts_their_live_view_and_they_cannot_rejoin(connect, simple):
    from app.boards.services import remove_member

    board, ann, bob = simple
    watcher = joined(connect, ann, board.key)
    removed = joined(connect, bob, board.key)
    remove_member(board, ann, "bob")
    db.session.commit()
    assert not removed.is_connected(), "the removed member's socket is disconnected"
    make.card(board, ann, "after bob left")
    assert [m["type"] for m in received(watcher)][-1] == "card.created"
    again = connect(token_for(bob))
    ack = again.emit("join", {"board": board.key}, callback=True)
    assert ack["ok"] is False and "no board" in ack["error"]
