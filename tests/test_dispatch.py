"""The dispatch swarm: the incoming queue, taking quick items, complete records, routing, and
the schedule of dispatch times on the board's clock."""

from datetime import datetime, timedelta

import pytest

from app.boards.services import parse_dispatch_times, update_board, update_column
from app.cards.moves import move_card
from app.cards.services import archive_card, link_cards
from app.errors import Invalid, WipLimitReached
from app.events.models import Event
from app.extensions import db
from app.swarms.dispatch import (
    dispatch_status,
    incoming_queue,
    missing_information,
    route_card,
    take_card,
)
from tests import factories as make


@pytest.fixture
def desk(app):
    """SUP (restoration template: a backlog column, then queues and active steps), owned by
    ann; bob a member, vic a viewer."""
    ann, bob, vic = make.user("ann"), make.user("bob"), make.user("vic")
    board = make.board(ann, "restoration", key="SUP")
    make.member(board, bob)
    make.member(board, vic, "viewer")
    return board, ann, bob, vic


def backlog(board):
    return next(c for c in board.columns if c.kind == "backlog")


def start(board):
    return next(c for c in board.columns if c.kind != "backlog")


def keys(cards):
    return [card.key for card in cards]


def events(board, kind):
    return db.session.query(Event).filter_by(board_id=board.id, type=kind).all()


# --- the queue -------------------------------------------------------------------------------


def test_queue_is_highest_priority_first_then_oldest(desk):
    board, ann, _, _ = desk
    t0 = datetime(2026, 11, 2, 9, 0)
    low = make.card(board, ann, "Toner low", impact="low", urgency="low", at=t0)
    old_p3 = make.card(board, ann, "Old P3", at=t0 + timedelta(minutes=1))
    p1 = make.card(board, ann, "Mail down", impact="high", urgency="high",
                   at=t0 + timedelta(minutes=2))
    new_p3 = make.card(board, ann, "New P3", at=t0 + timedelta(minutes=3))
    assert keys(incoming_queue(board)) == [p1.key, old_p3.key, new_p3.key, low.key]


def test_queue_leaves_out_started_and_archived_cards(desk):
    board, ann, _, _ = desk
    waiting = make.card(board, ann, "Waiting")
    started = make.card(board, ann, "Started")
    gone = make.card(board, ann, "Gone")
    move_card(started, ann, column=start(board))
    archive_card(gone, ann)
    db.session.commit()
    assert keys(incoming_queue(board)) == [waiting.key]


# --- take it ---------------------------------------------------------------------------------


def test_taking_a_card_makes_me_its_owner_and_pulls_it_into_the_commitment_point(desk):
    board, ann, bob, _ = desk
    card = make.card(board, ann, "Reset my password")
    take_card(card, bob)
    db.session.commit()
    assert card.owner == bob
    assert card.column == start(board)
    assert card.started_at is not None
    assert incoming_queue(board) == []
    assert len(events(board, "card.moved")) == 1
    assert events(board, "card.updated")[0].data["changes"]["owner"] == [None, "bob"]


def test_taking_into_a_full_hard_column_is_refused_and_changes_nothing(desk):
    board, ann, bob, _ = desk
    update_column(board, ann, start(board), wip_limit=1, wip_policy="hard")
    make.card(board, ann, "Already there", column=start(board))
    card = make.card(board, ann, "Printer jam")
    before = board.last_seq
    with pytest.raises(WipLimitReached, match="WIP limit"):
        take_card(card, bob)
    db.session.rollback()
    db.session.refresh(card)
    assert card.owner is None and card.column == backlog(board)
    assert board.last_seq == before


def test_a_viewer_cannot_take_and_a_started_card_is_not_incoming(desk):
    board, ann, bob, vic = desk
    card = make.card(board, ann, "Look only")
    with pytest.raises(Exception, match="viewer"):
        take_card(card, vic)
    db.session.rollback()
    take_card(card, bob)
    db.session.commit()
    with pytest.raises(Invalid, match="not incoming"):
        take_card(card, ann)


# --- is the record complete? -----------------------------------------------------------------


def test_an_untyped_card_needs_a_type_and_a_description(desk):
    board, ann, _, _ = desk
    card = make.card(board, ann, "Something is wrong")
    assert missing_information(card) == ["A type", "A description of what is needed"]


def test_an_incident_needs_impact_urgency_an_affected_service_and_skills(desk):
    board, ann, _, _ = desk
    card = make.card(board, ann, "VPN drops", type="incident")
    assert missing_information(card) == [
        "A description of what is needed",
        "Impact and urgency assessed",
        "The affected service (a tag)",
        "The skills needed",
    ]
    complete = make.card(board, ann, "VPN drops for sales", type="incident",
                         description="Since 9:00, every 10 minutes", impact="high",
                         urgency="medium", tags=["vpn"], required_skills=["networking"])
    assert missing_information(complete) == []


def test_a_deliberate_medium_medium_is_not_told_apart_from_the_default(desk):
    board, ann, _, _ = desk
    card = make.card(board, ann, "Slow", type="incident", description="x", tags=["crm"],
                     required_skills=["databases"], impact="medium", urgency="medium")
    assert missing_information(card) == ["Impact and urgency assessed"]


def test_service_requests_and_changes_need_a_due_date(desk):
    board, ann, _, _ = desk
    request = make.card(board, ann, "New laptop", type="service_request", description="x")
    change = make.card(board, ann, "Patch firewall", type="change", description="x",
                       required_skills=["firewalls"])
    assert missing_information(request) == ["A due date"]
    assert missing_information(change) == ["A due date"]
    dated = make.card(board, ann, "Patch switch", type="change", description="x",
                      due_date="2026-12-01")
    assert missing_information(dated) == ["The skills needed"]


def test_a_problem_needs_a_link_to_an_incident(desk):
    board, ann, _, _ = desk
    problem = make.card(board, ann, "Why does the VPN drop?", type="problem", description="x")
    other = make.card(board, ann, "A change", type="change")
    link_cards(problem, ann, "relates", other.key)
    db.session.commit()
    assert missing_information(problem) == ["A link to an incident"]
    incident = make.card(board, ann, "VPN drops", type="incident")
    link_cards(incident, ann, "relates", problem.key)  # linked from the incident's side
    db.session.commit()
    assert missing_information(problem) == []


def test_other_types_need_only_a_description(desk):
    board, ann, _, _ = desk
    assert missing_information(make.card(board, ann, "Idea", type="improvement")) == [
        "A description of what is needed"
    ]
    assert missing_information(
        make.card(board, ann, "Idea 2", type="feature", description="x")
    ) == []


# --- routing ---------------------------------------------------------------------------------


def test_routing_moves_and_assigns_in_one_go(desk):
    board, ann, bob, _ = desk
    card = make.card(board, ann, "Database slow")
    target = board.columns[2]
    route_card(card, ann, column=target, owner="bob")
    db.session.commit()
    assert (card.column, card.owner) == (target, bob)


def test_routing_to_a_non_member_changes_nothing(desk):
    board, ann, _, vic = desk
    card = make.card(board, ann, "Database slow")
    with pytest.raises(Invalid, match="not a member"):
        route_card(card, ann, column=board.columns[2], owner="vic")
    db.session.rollback()
    db.session.refresh(card)
    assert card.column == backlog(board) and card.owner is None


def test_routing_needs_a_new_column_or_owner(desk):
    board, ann, _, _ = desk
    card = make.card(board, ann, "Nothing to do")
    with pytest.raises(Invalid, match="Choose another column or an owner"):
        route_card(card, ann, column=backlog(board), owner=None)


def test_routing_over_a_hard_with_override_limit_needs_and_records_a_reason(desk):
    board, ann, bob, _ = desk
    target = board.columns[2]
    update_column(board, ann, target, wip_limit=1, wip_policy="hard-with-override")
    make.card(board, ann, "There already", column=target)
    card = make.card(board, ann, "Urgent")
    with pytest.raises(WipLimitReached, match="give a reason"):
        route_card(card, ann, column=target, owner="bob")
    db.session.rollback()
    route_card(card, ann, column=target, owner="bob", override_reason="Sev1 for the CFO")
    db.session.commit()
    assert card.column == target
    assert events(board, "wip.overridden")[0].data["reason"] == "Sev1 for the CFO"


# --- the schedule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, stored",
    [
        ("16:00, 9:00 13:00", ["09:00", "13:00", "16:00"]),
        ("09:00\n09:00,,", ["09:00"]),
        (["23:59", "00:00"], ["00:00", "23:59"]),
        ("", []),
    ],
)
def test_dispatch_times_are_sorted_and_de_duplicated(given, stored):
    assert parse_dispatch_times(given) == stored


@pytest.mark.parametrize(
    "given, message",
    [
        ("24:00", "'24:00' is not a time like 09:00"),
        ("9h", "'9h' is not a time"),
        ("12:60", "'12:60' is not a time"),
        (", ".join(f"{h:02d}:00" for h in range(13)), "at most 12 dispatch times"),
        (42, "must be a list"),
    ],
)
def test_bad_dispatch_times_are_refused_with_a_sentence(given, message):
    with pytest.raises(Invalid, match=message):
        parse_dispatch_times(given)


def test_owners_set_the_schedule_and_the_change_is_recorded(desk):
    board, ann, bob, _ = desk
    update_board(board, ann, dispatch_times="13:00, 09:00")
    db.session.commit()
    assert board.dispatch_times == ["09:00", "13:00"]
    assert events(board, "board.updated")[-1].data["changes"] == {
        "dispatch_times": ["09:00", "13:00"]
    }
    with pytest.raises(Invalid):
        update_board(board, ann, dispatch_times="nine")
    db.session.rollback()
    with pytest.raises(Exception, match="cannot manage"):
        update_board(board, bob, dispatch_times="10:00")
    db.session.rollback()
    assert board.dispatch_times == ["09:00", "13:00"]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_dispatch_is_due_from_five_minutes_before_to_thirty_after(desk):
    board, ann, _, _ = desk
    update_board(board, ann, dispatch_times="09:00, 13:00")  # board on UTC
    db.session.commit()
    assert not dispatch_status(board, _utc("2026-11-02T08:54")).due
    early = dispatch_status(board, _utc("2026-11-02T08:55"))
    assert early.due and early.due_at.strftime("%H:%M") == "09:00"
    assert early.next_label == "09:00"
    late = dispatch_status(board, _utc("2026-11-02T09:30"))
    assert late.due and late.next_label == "13:00"
    assert not dispatch_status(board, _utc("2026-11-02T09:31")).due
    evening = dispatch_status(board, _utc("2026-11-02T18:00"))
    assert not evening.due and evening.next_label == "tomorrow 09:00"


def test_dispatch_times_are_on_the_board_clock(desk):
    board, ann, _, _ = desk
    update_board(board, ann, timezone="Europe/Paris", dispatch_times="09:00")
    db.session.commit()
    # 08:00 UTC is 09:00 in Paris in winter (UTC+1) …
    assert dispatch_status(board, _utc("2026-11-02T08:00")).due
    assert not dispatch_status(board, _utc("2026-11-02T09:00")).due
    # … and 07:00 UTC is 09:00 in summer (UTC+2).
    assert dispatch_status(board, _utc("2026-07-01T07:00")).due


def test_a_late_evening_dispatch_stays_due_past_midnight(desk):
    board, ann, _, _ = desk
    update_board(board, ann, timezone="America/New_York", dispatch_times="23:50")
    db.session.commit()
    # 23:50 in New York on 2 November is 04:50 UTC on the 3rd; 00:10 local is still due.
    status = dispatch_status(board, _utc("2026-11-03T05:10"))
    assert status.due and status.due_at.day == 2
    assert status.next_label == "23:50"


def test_a_board_without_a_schedule_is_never_due(desk):
    board, _, _, _ = desk
    status = dispatch_status(board, _utc("2026-11-02T09:00"))
    assert not status.due and status.next_at is None


def test_a_card_of_another_board_cannot_be_routed_through_this_one(desk, client, login):
    board, ann, _, _ = desk
    other = make.board(ann, "simple", key="OTH")
    card = make.card(other, ann, "Elsewhere")
    login("ann")
    response = client.post(f"/boards/SUP/dispatch/{card.key}/take", headers={"HX-Request": "1"})
    assert response.status_code == 404
    db.session.refresh(card)
    assert card.owner is None
