"""Stand-up mode: the walk's order, the facilitator's controls, the summary, async updates."""

from datetime import timedelta

import pytest

from app.boards.services import add_column, add_lane
from app.cards.moves import move_card
from app.cards.services import block_card, create_card
from app.clock import utcnow
from app.errors import Forbidden, Invalid
from app.events.models import Event
from app.extensions import db
from app.standups import services as standups
from app.standups.walk import walk_order
from app.swarms.services import start_swarm
from tests import factories as make

NOW = utcnow().replace(microsecond=0)


def ago(hours: float):
    return NOW - timedelta(hours=hours)


@pytest.fixture
def walked(app):
    """A board whose walk exercises every rule; see each card's comment."""
    ann, bob = make.user("ann"), make.user("bob")
    board = make.board(ann, template=None, key="WLK")
    for name, kind in (("Backlog", "backlog"), ("Ready", "queue"), ("Doing", "active"),
                       ("Done", "done")):
        add_column(board, ann, name=name, kind=kind)
    make.member(board, bob)
    expedite = add_lane(board, ann, name="Expedite", class_of_service="expedite")
    db.session.commit()
    col = {c.name: c for c in board.columns}

    def card(title, column, at, **kwargs):
        return create_card(board, ann, title=title, column=col[column], at=at, **kwargs)

    # Five cards that took a day each: the SLE is one day.
    for n in range(5):
        done = card(f"Done {n}", "Ready", ago(24 * (n + 3)))
        move_card(done, ann, column=col["Done"], at=ago(24 * (n + 2)))
    # The previous stand-up, 20 hours ago.
    previous = standups.start_standup(board, ann, at=ago(20))
    standups.end_standup(previous, ann, at=ago(19.8))
    cards = {
        "G": card("G: not started", "Backlog", ago(2)),
        "X": card("X: expedite lane", "Doing", ago(3), lane=expedite),
        "E": card("E: the rest", "Ready", ago(5)),
        "C": card("C: not moved since the last stand-up", "Ready", ago(40)),
        "D": card("D: older than the SLE", "Ready", ago(72)),
        "B": card("B: P1", "Ready", ago(4), impact="high", urgency="high"),
        "A": card("A: blocked", "Ready", ago(3)),
        "F": card("F: waiting in Ready", "Ready", ago(1)),
    }
    for name in ("E", "D", "B", "A"):  # into Doing recently (after the last stand-up)
        move_card(cards[name], ann, column=col["Doing"], at=ago(2))
    move_card(cards["C"], ann, column=col["Doing"], at=ago(30))
    block_card(cards["A"], ann, "Waiting for the vendor", at=ago(1))
    db.session.commit()
    return board, cards, ann, bob


def titles(steps):
    return [step.card.title.split(":")[0] for step in steps]


def test_the_walk_goes_lane_by_lane_from_expedite_right_to_left_by_the_rules(walked):
    board, _, _, _ = walked
    steps = walk_order(board, standups._last_standup_start(board), NOW)
    assert titles(steps) == ["X", "A", "B", "C", "D", "E", "F"]
    reasons = {step.card.title[0]: step.reason for step in steps}
    assert reasons["A"] == "blocked"
    assert reasons["B"] == "expedite"
    assert reasons["C"] == "not moved since the last stand-up"
    assert reasons["D"] == "older than the SLE"
    assert reasons["E"] == ""


def test_starting_focuses_the_first_card_and_records_the_facilitator(walked):
    board, cards, ann, _ = walked
    standup = standups.start_standup(board, ann, at=NOW)
    db.session.commit()
    assert standup.facilitator == ann
    assert standup.focus_card == cards["X"]
    focus = db.session.query(Event).filter_by(board_id=board.id, type="standup.focus") \
        .order_by(Event.seq.desc()).first()
    assert focus.card_id == cards["X"].id and focus.data["position"] == 0


def test_two_people_starting_at_once_one_wins_and_the_other_is_told(walked):
    board, _, ann, bob = walked
    standups.start_standup(board, ann, at=NOW)
    db.session.commit()
    with pytest.raises(Invalid, match="ann is already facilitating"):
        standups.start_standup(board, bob, at=NOW)


def test_only_the_facilitator_moves_the_focus(walked):
    board, cards, ann, bob = walked
    standup = standups.start_standup(board, ann, at=NOW)
    db.session.commit()
    with pytest.raises(Forbidden, match="Only the facilitator"):
        standups.step(standup, bob, 1)
    standups.step(standup, ann, 1, at=NOW + timedelta(seconds=40))
    assert standup.focus_card == cards["A"]
    standups.step(standup, ann, -1, at=NOW + timedelta(seconds=50))
    assert standup.focus_card == cards["X"]
    with pytest.raises(Invalid, match="first card"):
        standups.step(standup, ann, -1)


def test_walking_past_the_last_card_ends_the_walk_and_previous_comes_back(walked):
    board, cards, ann, _ = walked
    standup = standups.start_standup(board, ann, at=NOW)
    for _ in range(7):
        standups.step(standup, ann, 1)
    assert standup.position is None and standup.focus_card is None
    with pytest.raises(Invalid, match="walk is over"):
        standups.step(standup, ann, 1)
    standups.step(standup, ann, -1)
    assert standup.focus_card == cards["F"]


def test_handing_over_makes_someone_else_the_facilitator(walked):
    board, _, ann, bob = walked
    standup = standups.start_standup(board, ann, at=NOW)
    standups.hand_over(standup, ann, "bob")
    db.session.commit()
    assert standup.facilitator == bob
    with pytest.raises(Forbidden):
        standups.step(standup, ann, 1)
    standups.step(standup, bob, 1)


def test_notes_are_checked_and_kept_on_the_card_in_focus(walked):
    board, cards, ann, bob = walked
    standup = standups.start_standup(board, ann, at=NOW)
    note = standups.add_note(standup, bob, "Vendor promised a fix by Friday", kind="decision")
    assert (note.card, note.kind) == (cards["X"], "decision")
    with pytest.raises(Invalid, match="cannot be empty"):
        standups.add_note(standup, bob, "   ")
    with pytest.raises(Invalid, match="too long"):
        standups.add_note(standup, bob, "x" * 2001)


def test_ending_keeps_a_summary_and_cannot_happen_twice(walked):
    board, cards, ann, bob = walked
    standup = standups.start_standup(board, ann, at=NOW)
    standups.join_standup(standup, bob, remote=True, at=NOW + timedelta(seconds=5))
    standups.step(standup, ann, 1, at=NOW + timedelta(seconds=90))  # X: 90 s
    block_card(cards["B"], bob, "Needs a change window", at=NOW + timedelta(seconds=100))
    start_swarm(cards["C"], bob, type="backlog", help_needed="Stuck on the certificate",
                at=NOW + timedelta(seconds=110))
    standups.add_note(standup, ann, "Escalate to the vendor", at=NOW + timedelta(seconds=115))
    impediment = standups.raise_impediment(standup, ann, "Vendor SLA unclear",
                                           at=NOW + timedelta(seconds=118))
    standups.end_standup(standup, ann, at=NOW + timedelta(seconds=120))  # A: 30 s
    db.session.commit()
    summary = standup.summary
    assert summary["minutes"] == 2.0
    assert [(a["user"], a["remote"]) for a in summary["attendees"]] == [("ann", False),
                                                                         ("bob", True)]
    assert [(c["card"], c["seconds"]) for c in summary["cards"]] == [
        (cards["X"].key, 90), (cards["A"].key, 30)]
    assert summary["notes"][0]["body"] == "Escalate to the vendor"
    assert summary["new_blockers"] == [{"card": cards["B"].key, "reason": "Needs a change window"}]
    assert summary["swarms_started"][0]["card"] == cards["C"].key
    assert impediment.tags == ["impediment"]
    with pytest.raises(Invalid, match="already ended"):
        standups.end_standup(standup, ann)
    assert standups.past_standups(board)[0] == standup


def test_async_updates_need_something_to_say(walked):
    board, _, _, bob = walked
    with pytest.raises(Invalid, match="at least one"):
        standups.post_update(board, bob, yesterday=" ", today="")
    standups.post_update(board, bob, yesterday="Patched the VPN", blockers="None")
    standups.post_update(board, bob, today="Certificate renewal")  # same day: replaced
    db.session.commit()
    [update] = standups.updates_for(board).values()
    assert (update.yesterday, update.today) == ("", "Certificate renewal")
    with pytest.raises(Invalid, match="too long"):
        standups.post_update(board, bob, today="x" * 1001)
