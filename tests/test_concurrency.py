"""Races: many people pulling cards into the last free WIP slot at once, and two people saving
the same card version at once. Each thread has its own app context, so its own session and
connection, as two requests served in parallel would.

The `app` fixture runs each test on a SQLite file (BEGIN IMMEDIATE queues the writers) and on
PostgreSQL (SELECT … FOR UPDATE on the board); the PostgreSQL run carries the `postgres` marker.
"""

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.boards.models import Board, BoardColumn
from app.boards.services import find_column, update_column
from app.cards.models import Card
from app.cards.moves import move_card
from app.cards.services import create_card, update_card
from app.errors import StaleVersion
from app.events.models import Event
from app.extensions import db
from tests import factories as make

THREADS = 8
ROUNDS = 4
TIMEOUT = 60


def race(app, attempts):
    """Run each attempt in its own thread and app context, released together by a barrier.

    An attempt is a function called inside the thread's app context after the barrier; it
    does its own loading and committing. Returns one outcome per attempt: "ok" or the
    exception class name.
    """
    # The caller's session must hold no transaction: on SQLite it would hold the write lock.
    db.session.commit()
    barrier = threading.Barrier(len(attempts), timeout=TIMEOUT)
    outcomes: list[str | None] = [None] * len(attempts)

    def run(index, attempt):
        with app.app_context():
            try:
                barrier.wait()
                attempt()
                db.session.commit()
                outcomes[index] = "ok"
            except Exception as error:  # noqa: BLE001  (every outcome is asserted on)
                db.session.rollback()
                outcomes[index] = type(error).__name__
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=run, args=(i, attempt), daemon=True)
        for i, attempt in enumerate(attempts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a racer hung: the board lock deadlocked"
    return outcomes


def pull_into(card_id: int, column_id: int, actor_id: int):
    def attempt():
        card = db.session.get(Card, card_id)
        move_card(
            card,
            db.session.get(User, actor_id),
            column=db.session.get(BoardColumn, column_id),
        )

    return attempt


def board_seqs(board_id: int) -> list[int]:
    return list(
        db.session.scalars(select(Event.seq).where(Event.board_id == board_id).order_by(Event.seq))
    )


def test_only_one_of_many_simultaneous_pulls_takes_the_last_free_slot(app):
    ann, bob = make.user("ann"), make.user("bob")
    board = make.board(ann, "simple", key="RACE")
    make.member(board, bob)
    doing = find_column(board, "Doing")
    board_id, doing_id, bob_id = board.id, doing.id, bob.id

    for round_ in range(1, ROUNDS + 1):
        # Doing holds round_ - 1 cards; a hard limit of round_ leaves exactly one slot.
        update_column(board, ann, doing, wip_limit=round_, wip_policy="hard")
        contenders = [make.card(board, ann, f"r{round_} c{i}").id for i in range(THREADS)]

        outcomes = race(app, [pull_into(cid, doing_id, bob_id) for cid in contenders])

        assert Counter(outcomes) == {"ok": 1, "WipLimitReached": THREADS - 1}, outcomes
        db.session.expire_all()
        in_doing = db.session.scalar(select(func.count(Card.id)).where(Card.column_id == doing_id))
        assert in_doing == round_, f"round {round_}: the hard limit was passed"
        winner = contenders[outcomes.index("ok")]
        assert db.session.get(Card, winner).column_id == doing_id
        losers = [c for c, o in zip(contenders, outcomes, strict=True) if o != "ok"]
        assert all(db.session.get(Card, c).column.name == "To do" for c in losers)

    seqs = board_seqs(board_id)
    assert seqs == list(range(1, len(seqs) + 1)), "event numbers have gaps or repeats"
    assert db.session.get(Board, board_id).last_seq == seqs[-1]
    moves = db.session.scalar(
        select(func.count(Event.id)).where(Event.board_id == board_id, Event.type == "card.moved")
    )
    assert moves == ROUNDS, "a refused move left an event behind"


def test_a_refused_racer_can_pull_once_the_slot_frees(app):
    ann = make.user("ann")
    board = make.board(ann, "simple", key="RETRY")
    doing, done = find_column(board, "Doing"), find_column(board, "Done")
    update_column(board, ann, doing, wip_limit=1, wip_policy="hard")
    first, second = make.card(board, ann, "first"), make.card(board, ann, "second")
    ids = first.id, second.id, doing.id, done.id, ann.id

    outcomes = race(app, [pull_into(ids[0], ids[2], ids[4]), pull_into(ids[1], ids[2], ids[4])])
    assert sorted(outcomes) == ["WipLimitReached", "ok"]
    winner, loser = (ids[0], ids[1]) if outcomes[0] == "ok" else (ids[1], ids[0])

    move_card(db.session.get(Card, winner), ann, column=db.session.get(BoardColumn, ids[3]))
    db.session.commit()
    move_card(db.session.get(Card, loser), ann, column=db.session.get(BoardColumn, ids[2]))
    db.session.commit()
    assert db.session.get(Card, loser).column.name == "Doing"


def test_two_simultaneous_edits_of_the_same_version_one_wins_one_is_stale(app):
    ann, bob = make.user("ann"), make.user("bob")
    board = make.board(ann, "simple", key="EDIT")
    make.member(board, bob)
    card = make.card(board, ann, "Original")
    card_id, board_id = card.id, board.id
    editors = {"ann": ann.id, "bob": bob.id}

    def edit(name, seen):
        def attempt():
            update_card(
                db.session.get(Card, card_id),
                db.session.get(User, editors[name]),
                version=seen,
                title=f"{name}'s title, round {seen}",
            )

        return attempt

    for _ in range(ROUNDS):
        seen = db.session.get(Card, card_id).version
        outcomes = race(app, [edit("ann", seen), edit("bob", seen)])
        assert sorted(outcomes) == ["StaleVersion", "ok"], outcomes
        db.session.expire_all()
        stored = db.session.get(Card, card_id)
        winner = ["ann", "bob"][outcomes.index("ok")]
        assert stored.title == f"{winner}'s title, round {seen}"
        assert stored.version == seen + 1

    updates = db.session.scalar(
        select(func.count(Event.id)).where(Event.board_id == board_id, Event.type == "card.updated")
    )
    assert updates == ROUNDS
    seqs = board_seqs(board_id)
    assert seqs == list(range(1, len(seqs) + 1))


def test_the_losing_editor_sees_the_winners_card(app):
    ann, bob = make.user("ann"), make.user("bob")
    board = make.board(ann, "simple", key="SEEN")
    make.member(board, bob)
    card = make.card(board, ann, "Original")
    card_id, seen = card.id, card.version
    refusals: list[tuple[str, str]] = []  # (message, title of the card handed back)

    def edit(user_id, title):
        def attempt():
            try:
                update_card(
                    db.session.get(Card, card_id),
                    db.session.get(User, user_id),
                    version=seen,
                    title=title,
                )
            except StaleVersion as error:
                refusals.append((error.message, error.card.title))
                raise

        return attempt

    outcomes = race(app, [edit(ann.id, "ann's"), edit(bob.id, "bob's")])
    assert sorted(outcomes) == ["StaleVersion", "ok"]
    winner_title = ["ann's", "bob's"][outcomes.index("ok")]
    ((message, title_shown),) = refusals
    assert title_shown == winner_title
    assert f"version {seen}, now {seen + 1}" in message


@pytest.mark.parametrize("policy", ["hard", "hard-with-override"])
def test_racing_creates_into_a_full_column_respect_the_limit(app, policy):
    ann = make.user("ann")
    board = make.board(ann, "simple", key="MAKE")
    doing = find_column(board, "Doing")
    update_column(board, ann, doing, wip_limit=1, wip_policy=policy)
    db.session.commit()
    board_id, doing_id, ann_id = board.id, doing.id, ann.id

    def create(i):
        def attempt():
            create_card(
                db.session.get(Board, board_id),
                db.session.get(User, ann_id),
                title=f"new {i}",
                column=db.session.get(BoardColumn, doing_id),
            )

        return attempt

    outcomes = race(app, [create(i) for i in range(THREADS)])
    assert Counter(outcomes) == {"ok": 1, "WipLimitReached": THREADS - 1}, outcomes
    numbers = db.session.scalars(select(Card.number).where(Card.board_id == board_id)).all()
    assert numbers == [1], "card numbers are handed out once, to the card that was created"
    assert db.session.get(Board, board_id).next_card_number == 2


def test_people_starting_the_stand_up_at_once_get_one_facilitator(app):
    from app.standups.models import Standup
    from app.standups.services import start_standup

    owner = make.user("ann")
    board = make.board(owner, "simple", key="RCE")
    people = [owner] + [make.user(f"racer{n}") for n in range(THREADS - 1)]
    for person in people[1:]:
        make.member(board, person)
    board_id, ids = board.id, [p.id for p in people]

    def attempt(user_id):
        return lambda: start_standup(db.session.get(Board, board_id), db.session.get(User, user_id))

    outcomes = race(app, [attempt(user_id) for user_id in ids])
    assert Counter(outcomes) == {"ok": 1, "Invalid": THREADS - 1}
    running = db.session.scalars(select(Standup).where(Standup.board_id == board_id)).all()
    assert len(running) == 1
