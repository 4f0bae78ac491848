"""The live board in the browser: a move on one screen shows on the others at once, every view
equals a fresh load after a burst of moves from two people, a page rides out a server restart,
falls back to polling when no socket can connect, and shows who is looking."""

import contextlib
import os
import random
import socket
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app.accounts.services import user_by_username
from app.boards.access import get_board
from app.boards.services import add_lane, board_lanes, update_column, update_lane
from app.cards.moves import move_card
from app.extensions import db
from tests import factories as make
from tests.e2e.conftest import drag, log_in

pytestmark = pytest.mark.e2e

READY = "#board[data-ready='1']"
SEED = 20240604
MOVES = 30

# Every WebSocket is pointed at an address of the same server that does not upgrade: the
# handshake fails as a refused upgrade does (same origin, so the page's CSP allows the attempt).
REFUSE_WEBSOCKETS = """
window.WebSocket = class extends window.WebSocket {
  constructor(url, protocols) { super("ws://" + location.host + "/no-upgrade-here", protocols); }
};
"""

# The board's normalized structure: cells with their cards in order, and every counter.
BOARD_SHAPE = """() => {
  const board = document.getElementById("board");
  const text = (el) => (el ? el.textContent.trim() : null);
  return {
    seq: board.dataset.seq,
    cells: Array.from(board.querySelectorAll(".cell")).map((cell) => ({
      id: cell.id,
      cards: Array.from(cell.querySelectorAll(".card")).map((card) => card.dataset.key),
      versions: Array.from(cell.querySelectorAll(".card")).map((card) => card.dataset.version),
      titles: Array.from(cell.querySelectorAll(".card .card-title")).map(text),
      looks: Array.from(cell.querySelectorAll(".card")).map((card) => card.className),
    })),
    columns: Array.from(board.querySelectorAll(".col-head")).map((head) => ({
      id: head.id, wip: text(head.querySelector(".wip")),
      state: head.querySelector(".wip").className,
    })),
    lanes: Array.from(board.querySelectorAll(".lane-head")).map((head) => ({
      id: head.id, wip: text(head.querySelector(".wip")),
      state: head.querySelector(".wip") && head.querySelector(".wip").className,
    })),
  };
}"""


@pytest.fixture
def live_board(live_app):
    """Board LIV owned by Ann Lee, Bob Stone and Cy Park members: To do · Doing (3, hard) ·
    Done, lanes Standard (4, soft) and Expedite (1, hard); six cards waiting in To do."""
    with live_app.app_context():
        ann = make.user("ann", display_name="Ann Lee")
        bob = make.user("bob", display_name="Bob Stone")
        board = make.board(ann, "simple", key="LIV", name="Live team")
        make.member(board, bob)
        make.member(board, make.user("cy", display_name="Cy Park"))
        update_column(board, ann, make.column(board, "Doing"), wip_limit=3, wip_policy="hard")
        standard = board_lanes(board)[0]
        update_lane(board, ann, standard, wip_limit=4, wip_policy="soft")
        add_lane(
            board, ann, name="Expedite", class_of_service="expedite", wip_limit=1, wip_policy="hard"
        )
        db.session.commit()
        for number in range(1, 7):
            make.card(board, ann, f"Ticket {number}")
        return {
            "columns": {c.name: c.id for c in board.columns},
            "lanes": {ln.name: ln.id for ln in board_lanes(board)},
            "cards": [f"LIV-{number}" for number in range(1, 7)],
        }


class RestartableServer:
    """The app served from a thread, which can go down (listener closed, every open
    connection cut, as a crash looks to a browser) and come back on the same port."""

    def __init__(self, app):
        self.app = app
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        self.connections: list[socket.socket] = []
        accept = self.server.get_request

        def get_request():
            connection, address = accept()
            self.connections.append(connection)
            return connection, address

        self.server.get_request = get_request
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        for connection in self.connections:  # long-lived websockets would outlive the listener
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def restartable_server(live_app):
    server = RestartableServer(live_app)
    yield server
    server.stop()
    with live_app.app_context():
        db.engine.dispose()


def open_board(new_page, base_url: str, username: str, **size):
    page = new_page(**size)
    log_in(page, base_url, username)
    page.goto(f"{base_url}/boards/LIV")
    page.wait_for_selector(READY)
    return page


def cell(page, live_board, column: str, lane: str = "Standard"):
    return page.locator(f"#cell-{live_board['columns'][column]}-{live_board['lanes'][lane]}")


def wip(page, live_board, column: str):
    return page.locator(f"#col-head-{live_board['columns'][column]} .wip")


def latest_seq(live_app) -> int:
    with live_app.app_context():
        return get_board("LIV", user_by_username("ann")).last_seq


def wait_until_applied(page, seq: int, timeout: float = 10_000) -> None:
    page.wait_for_function(
        "(seq) => document.getElementById('board').dataset.seq === String(seq)",
        arg=seq,
        timeout=timeout,
    )
    page.wait_for_selector(READY)


def move_as(live_app, username: str, card_key: str, column: str, lane: str = "Standard"):
    """A change made by someone else, straight through the service layer."""
    with live_app.app_context():
        from app.cards.services import get_card

        user = user_by_username(username)
        card = get_card(card_key, user, "member")
        board = card.board
        move_card(
            card,
            user,
            column=next(c for c in board.columns if c.name == column),
            lane=next(ln for ln in board_lanes(board) if ln.name == lane),
        )
        db.session.commit()


# --- the three ways to move a card, each waiting for the server's answer -----------------


def move_by_drag(page, card_key: str, cell_id: str) -> None:
    drag(page, page.locator(f"#card-{card_key}"), page.locator(f"#{cell_id}"))


def move_by_keys(page, card_key: str, keys: str) -> None:
    page.wait_for_selector(READY)
    page.locator(f"#card-{card_key}").focus()
    page.keyboard.press(keys)  # a move marks the board not ready until the answer is in
    page.wait_for_selector(READY)


def move_by_dialog(page, card_key: str, column_id: int, lane_id: int, position: str) -> None:
    page.wait_for_selector(READY)
    page.locator(f"#card-{card_key} .card-move").click()
    dialog = page.locator("#modal dialog[open]")
    dialog.locator("select[name=column]").select_option(str(column_id))
    dialog.locator("select[name=lane]").select_option(str(lane_id))
    dialog.locator("select[name=position]").select_option(position)
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#modal dialog")).to_have_count(0)  # closed once the answer is swapped
    page.wait_for_selector(READY)


# --- tests ------------------------------------------------------------------------------


def test_a_drag_on_one_screen_shows_on_the_other_within_a_second(live_server, new_page, live_board):
    ann = open_board(new_page, live_server, "ann")
    bob = open_board(new_page, live_server, "bob")
    for page in (ann, bob):
        expect(page.locator("#live-state")).to_have_text("Live")
    expect(wip(bob, live_board, "Doing")).to_have_text("0 / 3")

    drag(ann, ann.locator("#card-LIV-1"), cell(ann, live_board, "Doing"))
    expect(cell(ann, live_board, "Doing").locator("#card-LIV-1")).to_be_visible()

    expect(cell(bob, live_board, "Doing").locator("#card-LIV-1")).to_be_visible(timeout=1000)
    expect(cell(bob, live_board, "To do").locator("#card-LIV-1")).to_have_count(0, timeout=1000)
    expect(wip(bob, live_board, "Doing")).to_have_text("1 / 3", timeout=1000)
    assert ann.errors == [] and bob.errors == []


def edit_as(live_app, username: str, card_key: str, rng: random.Random) -> str:
    """An edit made by someone from another device: a new title, impact or block."""
    with live_app.app_context():
        from app.cards.services import block_card, get_card, unblock_card, update_card

        user = user_by_username(username)
        card = get_card(card_key, user, "member")
        what = rng.choice(("title", "impact", "block"))
        if what == "title":
            title = f"{card.title.split(' (')[0]} ({username} {rng.randint(1, 99)})"
            update_card(card, user, title=title)
        elif what == "impact":
            update_card(card, user, impact=rng.choice(("high", "medium", "low")))
        elif card.blocked:
            unblock_card(card, user)
        else:
            block_card(card, user, f"{username} waits on a vendor")
        db.session.commit()
        return what


def test_after_random_moves_and_edits_from_three_people_every_view_equals_a_fresh_load(
    live_server, live_app, new_page, live_board
):
    pages = {
        "ann": open_board(new_page, live_server, "ann", height=1400),
        "bob": open_board(new_page, live_server, "bob", height=1400),
        "cy": open_board(new_page, live_server, "cy", height=1400),
    }
    misses = []  # a pushed card placed next to one the view lacks would mean drift
    for page in pages.values():
        expect(page.locator("#live-state")).to_have_text("Live")
        page.on("console", lambda message: "oobErrorNoTarget" in message.text
                and misses.append(message.text))
    cell_ids = [
        (column_id, lane_id)
        for column_id in live_board["columns"].values()
        for lane_id in live_board["lanes"].values()
    ]
    keys = [
        "Shift+ArrowRight",
        "Shift+ArrowLeft",
        "Shift+ArrowUp",
        "Shift+ArrowDown",
        "Shift+PageUp",
        "Shift+PageDown",
    ]
    rng = random.Random(SEED)
    steps = []
    for _ in range(MOVES):
        who = rng.choice(sorted(pages))
        page = pages[who]
        how = rng.choice(("drag", "keys", "dialog"))
        card_key = rng.choice(live_board["cards"])
        column_id, lane_id = rng.choice(cell_ids)
        if rng.random() < 0.3:  # meanwhile someone edits a card elsewhere
            editor = rng.choice(sorted(pages))
            edited = rng.choice(live_board["cards"])
            steps.append(f"{editor} edits the {edit_as(live_app, editor, edited, rng)} of {edited}")
        if how == "drag":
            # A drag aims at coordinates: let the other person's last move land first. Keys and
            # the dialog go straight on, so pushes also arrive while this page is mid-move.
            wait_until_applied(page, latest_seq(live_app))
            steps.append(f"{who} drags {card_key} to cell {column_id}-{lane_id}")
            move_by_drag(page, card_key, f"cell-{column_id}-{lane_id}")
        elif how == "keys":
            pressed = rng.choice(keys)
            steps.append(f"{who} presses {pressed} on {card_key}")
            move_by_keys(page, card_key, pressed)
        else:
            position = rng.choice(("", "0"))
            steps.append(f"{who} moves {card_key} to {column_id}-{lane_id} at {position!r}")
            move_by_dialog(page, card_key, column_id, lane_id, position)
    history = "\n".join(steps)

    seq = latest_seq(live_app)
    assert seq > 6 + 3, f"most moves should have gone through:\n{history}"
    for page in pages.values():
        wait_until_applied(page, seq)
    fresh = open_board(new_page, live_server, "ann")
    expected = fresh.evaluate(BOARD_SHAPE)
    assert expected["seq"] == str(seq)
    for who, page in pages.items():
        assert page.evaluate(BOARD_SHAPE) == expected, f"{who}'s view after:\n{history}"
        assert page.errors == [], who
    assert misses == [], history


def test_an_open_page_reconnects_and_catches_up_after_a_server_restart(
    restartable_server, live_app, new_page, live_board
):
    page = open_board(new_page, restartable_server.url, "ann")
    state = page.locator("#live-state")
    expect(state).to_have_text("Live")

    restartable_server.stop()
    expect(state).not_to_have_text("Live", timeout=5000)
    move_as(live_app, "bob", "LIV-2", "Doing")
    expect(cell(page, live_board, "Doing").locator("#card-LIV-2")).to_have_count(0)

    restartable_server.start()
    expect(cell(page, live_board, "Doing").locator("#card-LIV-2")).to_be_visible(timeout=10_000)
    expect(wip(page, live_board, "Doing")).to_have_text("1 / 3")
    expect(state).to_have_text("Live", timeout=10_000)
    assert page.locator(f"#board[data-seq='{latest_seq(live_app)}']").count() == 1
    assert page.errors == []


def test_a_page_that_cannot_open_a_socket_polls_and_stays_current(
    live_server, live_app, new_page, live_board
):
    page = new_page()
    # As behind a proxy that lets neither Socket.IO transport through. Routes see only HTTP,
    # so WebSockets are pointed at an address that refuses the upgrade.
    page.context.route("**/socket.io/**", lambda route: route.abort())
    page.context.add_init_script(REFUSE_WEBSOCKETS)
    log_in(page, live_server, "ann")
    page.goto(f"{live_server}/boards/LIV")
    expect(page.locator("#live-state")).to_have_text("Polling")

    move_as(live_app, "bob", "LIV-3", "Doing")
    expect(cell(page, live_board, "Doing").locator("#card-LIV-3")).to_be_visible(timeout=7000)
    expect(wip(page, live_board, "Doing")).to_have_text("1 / 3")
    expect(page.locator("#live-state")).to_have_text("Polling")
    assert page.errors == []


def test_a_page_whose_websocket_opens_but_never_answers_polls_without_waiting_for_it(
    live_server, live_app, new_page, live_board
):
    page = new_page()
    # A proxy that accepts the upgrade and then passes nothing on: the socket opens and hangs
    # (Socket.IO alone would give up only after its 20 s connect timeout).
    page.context.route("**/socket.io/?*transport=polling*", lambda route: route.abort())
    page.context.route_web_socket("**/socket.io/**", lambda websocket: None)
    log_in(page, live_server, "ann")
    page.goto(f"{live_server}/boards/LIV")
    expect(page.locator("#live-state")).to_have_text("Polling", timeout=10_000)

    move_as(live_app, "bob", "LIV-5", "Doing")
    expect(cell(page, live_board, "Doing").locator("#card-LIV-5")).to_be_visible(timeout=7000)
    expect(wip(page, live_board, "Doing")).to_have_text("1 / 3")
    assert page.errors == []


def test_presence_shows_who_is_looking_and_updates_when_someone_leaves(
    live_server, live_app, new_page, live_board
):
    move_as(live_app, "ann", "LIV-1", "Doing")
    move_as(live_app, "ann", "LIV-4", "Done")
    ann = open_board(new_page, live_server, "ann", width=1920, height=1080)
    bob = open_board(new_page, live_server, "bob")
    for page in (ann, bob):
        expect(page.locator("#live-state")).to_have_text("Live")
        expect(page.locator("#presence .avatar")).to_have_text(["AL", "BS"])
    expect(ann.locator("#presence .avatar").last).to_have_attribute(
        "title", "Bob Stone is looking at this board"
    )
    os.makedirs("test-artifacts", exist_ok=True)
    ann.screenshot(path="test-artifacts/live-board.png")

    bob.close()
    expect(ann.locator("#presence .avatar")).to_have_text(["AL"], timeout=5000)
    assert ann.errors == []
