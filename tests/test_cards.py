"""Card commands: quick add, fields and validation, versions, blocking, archive, checklist,
links, comments, column ordering, the filter bar and sanitised Markdown."""

from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.board_view import CardFilter, board_view
from app.boards.services import add_lane, find_column, find_lane, update_column
from app.cards.models import Card
from app.cards.moves import move_card
from app.cards.ordering import is_escalated, order_cards
from app.cards.services import (
    add_checklist_item,
    add_comment,
    archive_card,
    block_card,
    create_card,
    get_card,
    link_cards,
    links_of,
    remove_checklist_item,
    restore_card,
    set_checklist_item,
    unblock_card,
    unlink_cards,
    update_card,
)
from app.errors import Forbidden, Invalid, NotFound, StaleVersion
from app.events.models import Event
from app.extensions import db
from app.text import render_markdown
from tests import factories as make

T0 = datetime(2026, 3, 2, 9, 0)


def events_of(card):
    return db.session.scalars(
        select(Event).where(Event.card_id == card.id).order_by(Event.seq)
    ).all()


def reload(card):
    db.session.expire_all()
    return db.session.get(Card, card.id)


# --- quick add -----------------------------------------------------------------------------


def test_quick_add_needs_only_a_title_and_numbers_cards_per_board(simple):
    board, ann, _ = simple
    other = make.board(ann, "simple", key="OTH")
    first = make.card(board, ann, "VPN down")
    second = make.card(board, ann, "Printer jam")
    elsewhere = make.card(other, ann, "Elsewhere")
    assert (first.key, second.key, elsewhere.key) == ("SIM-1", "SIM-2", "OTH-1")
    assert first.column.name == "To do" and first.lane.name == "Standard"
    assert (first.impact, first.urgency, first.priority) == ("medium", "medium", 3)
    assert first.owner is None and first.due_date is None and first.tags == []
    assert first.created_by_id == ann.id
    assert get_card("sim-2", ann) is second


def test_quick_add_lands_in_the_standard_lane_of_the_first_column(app):
    ann = make.user("ann")
    board = make.board(ann, "restoration", key="INC")
    card = make.card(board, ann, "Mail bounces")
    assert card.column.name == "Reported"
    assert card.lane.name == "Standard", "not Expedite, although it is the first lane"
    assert card.started_at is None, "the backlog is before the commitment point"


def test_card_on_an_empty_board_is_refused_with_a_hint(app):
    ann = make.user("ann")
    board = make.board(ann, None, key="EMP")
    with pytest.raises(Invalid, match="Board EMP has no columns yet; add one in its settings."):
        create_card(board, ann, title="Nowhere to go")


def test_card_created_past_the_commitment_point_is_started(simple):
    board, ann, _ = simple
    card = create_card(board, ann, title="Hot", column=find_column(board, "Doing"), at=T0)
    assert card.started_at == T0 and card.finished_at is None
    done = create_card(board, ann, title="Already done", column=find_column(board, "Done"), at=T0)
    assert done.started_at == T0 and done.finished_at == T0


def test_card_cannot_be_created_on_another_boards_lane(simple):
    board, ann, _ = simple
    other = make.board(ann, "simple", key="OTH")
    with pytest.raises(Invalid, match="must be created on SIM's own columns"):
        create_card(board, ann, title="Lost", lane=find_lane(other, "Standard"))


@pytest.mark.parametrize(
    "impact, urgency, priority",
    [
        ("high", "high", 1),
        ("high", "medium", 2),
        ("high", "low", 3),
        ("medium", "high", 2),
        ("medium", "medium", 3),
        ("medium", "low", 4),
        ("low", "high", 3),
        ("low", "medium", 4),
        ("low", "low", 5),
    ],
)
def test_priority_follows_from_impact_and_urgency(simple, impact, urgency, priority):
    board, ann, _ = simple
    card = make.card(board, ann, impact=impact, urgency=urgency)
    assert reload(card).priority == priority


def test_priority_follows_when_impact_changes(simple):
    board, ann, bob = simple
    card = make.card(board, ann, impact="low", urgency="high")
    assert card.priority == 3
    update_card(card, bob, impact="high")
    db.session.commit()
    assert reload(card).priority == 1


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title, message",
    [
        ("", "Title cannot be empty."),
        ("   \t ", "Title cannot be empty."),
        (None, "Title cannot be empty."),
        ("x" * 201, "Title is too long (201 characters; at most 200)."),
        (42, "Title must be text."),
    ],
)
def test_bad_titles_are_refused(simple, title, message):
    board, ann, _ = simple
    with pytest.raises(Invalid) as refused:
        create_card(board, ann, title=title)
    assert refused.value.message == message
    db.session.rollback()
    assert db.session.scalar(select(Card.id)) is None
    assert board.next_card_number == 1, "a refused card does not use up a number"


def test_title_of_exactly_200_characters_is_kept_and_trimmed(simple):
    board, ann, _ = simple
    card = make.card(board, ann, "  " + "x" * 200 + "  ")
    assert reload(card).title == "x" * 200


def test_unknown_fields_are_refused(simple):
    board, ann, bob = simple
    with pytest.raises(Invalid, match="Unknown card field\\(s\\): colour, number."):
        create_card(board, ann, title="x", colour="red", number=99)
    db.session.rollback()
    card = make.card(board, ann)
    with pytest.raises(Invalid, match="Unknown card field\\(s\\): blocked."):
        update_card(card, bob, blocked=True)
    db.session.rollback()
    assert reload(card).blocked is False


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("due_date", "2026-02-30", "Due date must be a date like 2026-12-31"),
        ("due_date", "next friday", "Due date must be a date like 2026-12-31"),
        ("type", "bug", "Type must be one of"),
        ("impact", "critical", "Impact must be one of: high, medium, low"),
        ("urgency", "HIGH", "Urgency must be one of: high, medium, low"),
        ("cost_of_delay", 0, "Cost of delay must be between 1 and"),
        ("job_size", "big", "Job size must be a whole number"),
        ("tags", 7, "Tags must be a list or comma-separated text."),
    ],
)
def test_bad_field_values_are_refused_with_a_sentence(simple, field, value, message):
    board, ann, bob = simple
    with pytest.raises(Invalid) as refused:
        create_card(board, ann, title="x", **{field: value})
    assert refused.value.message.startswith(message)
    db.session.rollback()
    card = make.card(board, ann)
    with pytest.raises(Invalid):
        update_card(card, bob, **{field: value})


def test_fields_are_normalised(simple):
    board, ann, bob = simple
    card = make.card(
        board,
        ann,
        "Renew certificate",
        due_date="2026-04-01",
        tags="TLS, network , tls",
        type="change",
        owner="bob",
        cost_of_delay="8",
    )
    card = reload(card)
    assert card.due_date == date(2026, 4, 1)
    assert card.tags == ["tls", "network"]
    assert card.owner == bob and card.type == "change" and card.cost_of_delay == 8


def test_owner_must_be_a_member_who_can_work_on_the_board(simple):
    board, ann, bob = simple
    vic = make.user("vic")
    make.member(board, vic, "viewer")
    make.user("eve")
    with pytest.raises(Invalid, match="eve is not a member of SIM, so cannot own its cards."):
        create_card(board, ann, title="x", owner="eve")
    db.session.rollback()
    with pytest.raises(Invalid, match="vic is not a member of SIM"):
        create_card(board, ann, title="x", owner="vic")
    db.session.rollback()
    with pytest.raises(Invalid, match="There is no user 'ghost' to own the card."):
        create_card(board, ann, title="x", owner="ghost")
    db.session.rollback()
    card = make.card(board, ann, owner=bob.id)
    assert card.owner == bob
    update_card(card, ann, owner="")
    db.session.commit()
    assert reload(card).owner is None


def test_viewers_cannot_create_or_edit_and_outsiders_cannot_see_cards(simple):
    board, ann, _ = simple
    vic = make.user("vic")
    make.member(board, vic, "viewer")
    eve = make.user("eve")
    card = make.card(board, ann, "Secret")
    assert get_card(card.key, vic) is card
    with pytest.raises(Forbidden):
        create_card(board, vic, title="x")
    with pytest.raises(Forbidden):
        update_card(card, vic, title="mine")
    with pytest.raises(NotFound, match="There is no card SIM-1."):
        get_card("SIM-1", eve)
    with pytest.raises(NotFound, match="There is no card SIM-99."):
        get_card("SIM-99", ann)


# --- editing and versions ------------------------------------------------------------------


def test_update_records_old_and_new_values(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Disk full", impact="low")
    update_card(
        card,
        bob,
        version=card.version,
        title="Disk full on db-2",
        impact="high",
        owner="bob",
        due_date="2026-05-01",
    )
    db.session.commit()
    event = events_of(card)[-1]
    assert event.type == "card.updated" and event.actor_id == bob.id
    assert event.data["changes"] == {
        "title": ["Disk full", "Disk full on db-2"],
        "impact": ["low", "high"],
        "owner": [None, "bob"],
        "due_date": [None, "2026-05-01"],
    }


def test_update_that_changes_nothing_bumps_no_version_and_records_nothing(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Same")
    version, count = card.version, len(events_of(card))
    update_card(card, bob, title=" Same ", version=version)
    db.session.commit()
    assert reload(card).version == version
    assert len(events_of(card)) == count


def test_update_with_a_stale_version_is_refused_and_leaves_the_card_unchanged(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Original")
    seen = card.version
    update_card(card, bob, version=seen, title="Bob's edit")
    db.session.commit()
    events_before = len(events_of(card))

    with pytest.raises(StaleVersion, match="SIM-1 was changed by someone else") as refused:
        update_card(card, ann, version=seen, title="Ann's edit", impact="high")
    assert refused.value.card.title == "Bob's edit", "the error carries the current card"
    db.session.rollback()

    card = reload(card)
    assert (card.title, card.impact) == ("Bob's edit", "medium")
    assert card.version == seen + 1
    assert len(events_of(card)) == events_before


def test_version_must_be_a_number(simple):
    board, ann, _ = simple
    card = make.card(board, ann)
    with pytest.raises(Invalid, match="Version must be a whole number"):
        update_card(card, ann, version="latest", title="x")


# --- blocking ------------------------------------------------------------------------------


def test_block_needs_a_reason(simple):
    board, ann, bob = simple
    card = make.card(board, ann)
    with pytest.raises(Invalid, match="Blocked reason cannot be empty."):
        block_card(card, bob, "  ")
    db.session.rollback()
    assert reload(card).blocked is False


def test_double_block_is_refused_with_the_current_reason(simple):
    board, ann, bob = simple
    card = make.card(board, ann)
    block_card(card, bob, "Waiting for vendor")
    db.session.commit()
    with pytest.raises(Invalid, match="SIM-1 is already blocked: Waiting for vendor"):
        block_card(card, ann, "Another reason")
    db.session.rollback()
    assert reload(card).blocked_reason == "Waiting for vendor"


def test_unblock_records_how_long_the_card_was_blocked_and_why(simple):
    board, ann, bob = simple
    card = make.card(board, ann)
    block_card(card, bob, "Change freeze", at=T0)
    db.session.commit()
    assert (card.blocked, card.blocked_reason, card.blocked_at) == (True, "Change freeze", T0)
    unblock_card(card, bob, at=T0 + timedelta(hours=2, minutes=30))
    db.session.commit()
    card = reload(card)
    assert (card.blocked, card.blocked_reason, card.blocked_at) == (False, None, None)
    event = events_of(card)[-1]
    assert event.type == "card.unblocked"
    assert event.data == {"reason": "Change freeze", "blocked_seconds": 9000.0}


def test_unblocking_a_card_that_is_not_blocked_is_refused(simple):
    board, ann, _ = simple
    card = make.card(board, ann)
    with pytest.raises(Invalid, match="SIM-1 is not blocked."):
        unblock_card(card, ann)


# --- archive and restore -------------------------------------------------------------------


def test_archive_takes_the_card_off_the_board_and_restore_puts_it_back_last(simple):
    board, ann, bob = simple
    first = make.card(board, ann, "first")
    second = make.card(board, ann, "second")
    archive_card(first, bob)
    db.session.commit()
    view = board_view(board)
    todo, standard = find_column(board, "To do"), find_lane(board, "Standard")
    assert [v.card.title for v in view.cell(todo.id, standard.id)] == ["second"]
    assert view.total == 1
    assert get_card("SIM-1", ann) == first, "archived cards are kept"

    restore_card(first, bob)
    db.session.commit()
    view = board_view(board)
    assert [v.card.title for v in view.cell(todo.id, standard.id)] == ["second", "first"]
    assert [e.type for e in events_of(first)][-2:] == ["card.archived", "card.restored"]
    assert second.archived_at is None


def test_archive_twice_restore_live_and_move_archived_are_refused(simple):
    board, ann, _ = simple
    card = make.card(board, ann)
    with pytest.raises(Invalid, match="SIM-1 is not archived."):
        restore_card(card, ann)
    archive_card(card, ann)
    db.session.commit()
    with pytest.raises(Invalid, match="SIM-1 is already archived."):
        archive_card(card, ann)
    with pytest.raises(Invalid, match="SIM-1 is archived; restore it before moving it."):
        move_card(card, ann, column=find_column(board, "Doing"))


# --- checklist -----------------------------------------------------------------------------


def test_checklist_add_check_and_remove(simple):
    board, ann, bob = simple
    card = make.card(board, ann)
    items = [add_checklist_item(card, bob, text) for text in ("Back up", "Patch", "Reboot")]
    db.session.commit()
    assert [(i.text, i.position, i.done) for i in reload(card).checklist] == [
        ("Back up", 0, False),
        ("Patch", 1, False),
        ("Reboot", 2, False),
    ]
    set_checklist_item(card, bob, items[1].id, True)
    db.session.commit()
    assert [i.done for i in reload(card).checklist] == [False, True, False]
    remove_checklist_item(card, bob, items[0].id)
    db.session.commit()
    assert [(i.text, i.position) for i in reload(card).checklist] == [("Patch", 0), ("Reboot", 1)]
    actions = [e.data["action"] for e in events_of(card) if e.type == "card.checklist"]
    assert actions == ["added", "added", "added", "checked", "removed"]


def test_checklist_rejects_empty_items_and_unknown_ids(simple):
    board, ann, _ = simple
    card = make.card(board, ann)
    other = make.card(board, ann, "other")
    foreign = add_checklist_item(other, ann, "Not yours")
    db.session.commit()
    with pytest.raises(Invalid, match="Checklist item cannot be empty."):
        add_checklist_item(card, ann, " ")
    db.session.rollback()
    with pytest.raises(NotFound, match="SIM-1 has no checklist item"):
        set_checklist_item(card, ann, foreign.id, True)
    db.session.rollback()
    with pytest.raises(NotFound):
        remove_checklist_item(card, ann, foreign.id)
    db.session.rollback()
    assert reload(other).checklist[0].text == "Not yours"


def test_checking_an_item_twice_records_once(simple):
    board, ann, _ = simple
    card = make.card(board, ann)
    item = add_checklist_item(card, ann, "Patch")
    set_checklist_item(card, ann, item.id, True)
    set_checklist_item(card, ann, item.id, True)
    db.session.commit()
    assert [e.data["action"] for e in events_of(card)[1:]] == ["added", "checked"]


# --- links ---------------------------------------------------------------------------------


def test_links_read_from_both_sides(simple):
    board, ann, bob = simple
    outage = make.card(board, ann, "Outage")
    fix = make.card(board, ann, "Fix")
    problem = make.card(board, ann, "Problem")
    dupe = make.card(board, ann, "Dupe")
    link_cards(fix, bob, "blocks", outage.key)
    link_cards(outage, bob, "relates", problem.key)
    link_cards(dupe, bob, "duplicates", outage.key)
    db.session.commit()

    def relations(card):
        return sorted((how, other.key) for how, other, _ in links_of(card))

    assert relations(outage) == [
        ("is blocked by", "SIM-2"),
        ("is duplicated by", "SIM-4"),
        ("relates to", "SIM-3"),
    ]
    assert relations(fix) == [("blocks", "SIM-1")]
    assert relations(problem) == [("relates to", "SIM-1")]
    assert relations(dupe) == [("duplicates", "SIM-1")]


def test_blocked_by_is_stored_as_the_other_card_blocking_this_one(simple):
    board, ann, _ = simple
    outage = make.card(board, ann, "Outage")
    fix = make.card(board, ann, "Fix")
    link = link_cards(outage, ann, "blocked_by", fix.key)
    db.session.commit()
    assert (link.source, link.target, link.kind) == (fix, outage, "blocks")
    assert [(how, other) for how, other, _ in links_of(outage)] == [("is blocked by", fix)]
    with pytest.raises(Invalid, match="SIM-2 already blocks SIM-1."):
        link_cards(fix, ann, "blocks", outage.key)


def test_self_links_duplicate_links_and_unknown_kinds_are_refused(simple):
    board, ann, _ = simple
    card = make.card(board, ann)
    other = make.card(board, ann, "other")
    with pytest.raises(Invalid, match="A card cannot be linked to itself."):
        link_cards(card, ann, "relates", "sim-1")
    link_cards(card, ann, "relates", other.key)
    db.session.commit()
    with pytest.raises(Invalid, match="SIM-1 already relates SIM-2."):
        link_cards(card, ann, "relates", other.key)
    db.session.rollback()
    with pytest.raises(Invalid, match="Link kind must be one of"):
        link_cards(card, ann, "causes", other.key)
    db.session.rollback()
    assert len(links_of(card)) == 1


def test_relates_is_symmetric_so_the_reverse_link_is_a_duplicate(simple):
    board, ann, _ = simple
    card = make.card(board, ann)
    other = make.card(board, ann, "other")
    link_cards(card, ann, "relates", other.key)
    db.session.commit()
    with pytest.raises(Invalid, match="already relates"):
        link_cards(other, ann, "relates", card.key)
    db.session.rollback()
    assert [how for how, _, _ in links_of(card)] == ["relates to"]


def test_link_to_a_card_on_a_board_the_actor_cannot_see_is_not_found(simple):
    board, ann, bob = simple
    secret = make.board(ann, "simple", key="SEC")
    hidden = make.card(secret, ann, "Hidden")
    card = make.card(board, ann)
    with pytest.raises(NotFound, match="There is no card SEC-1."):
        link_cards(card, bob, "relates", hidden.key)


def test_unlink_removes_the_link_from_both_sides(simple):
    board, ann, _ = simple
    card = make.card(board, ann)
    other = make.card(board, ann, "other")
    link = link_cards(card, ann, "blocks", other.key)
    db.session.commit()
    unlink_cards(other, ann, link.id)
    db.session.commit()
    assert links_of(card) == [] and links_of(other) == []
    assert [e.type for e in events_of(other)][-1] == "card.unlinked"


# --- comments ------------------------------------------------------------------------------


def test_comments_are_kept_in_order_and_recorded(simple):
    board, ann, bob = simple
    card = make.card(board, ann)
    add_comment(card, bob, "Rebooted, no change.", at=T0)
    add_comment(card, ann, "  Vendor says firmware.  ", at=T0 + timedelta(minutes=5))
    db.session.commit()
    card = reload(card)
    assert [(c.author.username, c.body) for c in card.comments] == [
        ("bob", "Rebooted, no change."),
        ("ann", "Vendor says firmware."),
    ]
    assert [e.type for e in events_of(card)][-2:] == ["card.commented", "card.commented"]


@pytest.mark.parametrize("body", ["", "   \n ", None])
def test_empty_comment_is_refused(simple, body):
    board, ann, _ = simple
    card = make.card(board, ann)
    with pytest.raises(Invalid, match="Comment cannot be empty."):
        add_comment(card, ann, body)
    db.session.rollback()
    assert reload(card).comments == []


def test_viewer_cannot_comment(simple):
    board, ann, _ = simple
    vic = make.user("vic")
    make.member(board, vic, "viewer")
    card = make.card(board, ann)
    with pytest.raises(Forbidden):
        add_comment(card, vic, "Drive-by")


# --- ordering within a column --------------------------------------------------------------


def doing_cell(board, **kwargs):
    doing, standard = find_column(board, "Doing"), find_lane(board, "Standard")
    return [v.card.title for v in board_view(board, **kwargs).cell(doing.id, standard.id)]


def set_sort(board, actor, policy):
    update_column(board, actor, find_column(board, "Doing"), sort_policy=policy, wip_limit=None)
    db.session.commit()


def put_in_doing(board, actor, title, **kwargs):
    return make.card(board, actor, title, column=find_column(board, "Doing"), **kwargs)


def test_manual_order_follows_drag_positions(simple):
    board, ann, bob = simple
    set_sort(board, ann, "manual")
    a = put_in_doing(board, ann, "a", impact="low", urgency="low")
    put_in_doing(board, ann, "b", impact="high", urgency="high")
    c = put_in_doing(board, ann, "c")
    move_card(c, bob, column=c.column, position=0)
    db.session.commit()
    assert doing_cell(board) == ["c", "a", "b"]
    move_card(a, bob, column=a.column, position=2)
    db.session.commit()
    assert doing_cell(board) == ["c", "b", "a"]


def test_priority_order_puts_p1_first(simple):
    board, ann, _ = simple
    set_sort(board, ann, "priority")
    put_in_doing(board, ann, "p5", impact="low", urgency="low")
    put_in_doing(board, ann, "p1", impact="high", urgency="high")
    put_in_doing(board, ann, "p3", impact="medium", urgency="medium")
    put_in_doing(board, ann, "p2", impact="high", urgency="medium")
    assert doing_cell(board) == ["p1", "p2", "p3", "p5"]


def test_priority_order_raises_a_card_due_soon_within_its_priority(simple):
    board, ann, _ = simple
    set_sort(board, ann, "priority")
    now = T0 + timedelta(days=10)
    put_in_doing(board, ann, "p3 calm", at=T0)
    put_in_doing(board, ann, "p3 due tomorrow", at=T0, due_date=(now + timedelta(days=1)).date())
    put_in_doing(board, ann, "p2", at=T0, impact="high", urgency="medium")
    put_in_doing(board, ann, "p3 due next month", at=T0, due_date=date(2026, 4, 15))
    assert doing_cell(board, now=now) == ["p2", "p3 due tomorrow", "p3 calm", "p3 due next month"]
    view = board_view(board, now=now)
    flagged = {v.card.title for cell in view.cells.values() for v in cell if v.escalated}
    assert flagged == {"p3 due tomorrow"}


def test_aging_escalation_raises_a_card_older_than_the_sle(simple):
    board, ann, _ = simple
    now = T0 + timedelta(days=20)
    young = put_in_doing(board, ann, "young", at=now - timedelta(days=1))
    old = put_in_doing(board, ann, "old", at=now - timedelta(days=9))
    p2 = put_in_doing(
        board, ann, "p2 young", at=now - timedelta(days=1), impact="high", urgency="medium"
    )
    assert not is_escalated(old, now, sle_days=None)
    assert is_escalated(old, now, sle_days=8) and not is_escalated(young, now, sle_days=8)
    ordered = order_cards("priority", [young, old, p2], now, sle_days=8)
    assert [c.title for c in ordered] == ["p2 young", "old", "young"]
    ordered = order_cards("priority", [young, old, p2], now, sle_days=None)
    assert [c.title for c in ordered] == ["p2 young", "young", "old"]


def test_fifo_order_is_by_arrival_not_by_number(simple):
    board, ann, _ = simple
    set_sort(board, ann, "fifo")
    put_in_doing(board, ann, "arrived second", at=T0 + timedelta(hours=2))
    put_in_doing(
        board, ann, "arrived third", at=T0 + timedelta(hours=3), impact="high", urgency="high"
    )
    put_in_doing(board, ann, "arrived first", at=T0)
    assert doing_cell(board, now=T0 + timedelta(days=1)) == [
        "arrived first",
        "arrived second",
        "arrived third",
    ]


def test_due_date_order_puts_undated_cards_last(simple):
    board, ann, _ = simple
    set_sort(board, ann, "due_date")
    put_in_doing(board, ann, "undated", impact="high", urgency="high")
    put_in_doing(board, ann, "june", due_date="2026-06-01")
    put_in_doing(board, ann, "may", due_date="2026-05-01")
    assert doing_cell(board, now=T0) == ["may", "june", "undated"]


def test_cost_of_delay_order_is_weighted_shortest_job_first(simple):
    board, ann, _ = simple
    set_sort(board, ann, "cost_of_delay")
    put_in_doing(board, ann, "wsjf 2", cost_of_delay=10, job_size=5)
    put_in_doing(board, ann, "unknown", impact="high", urgency="high")
    put_in_doing(board, ann, "wsjf 6", cost_of_delay=6, job_size=1)
    put_in_doing(board, ann, "wsjf 3 unsized", cost_of_delay=3)
    assert doing_cell(board, now=T0) == ["wsjf 6", "wsjf 3 unsized", "wsjf 2", "unknown"]


# --- filter bar ----------------------------------------------------------------------------


@pytest.fixture
def filtered(simple):
    board, ann, bob = simple
    doing = find_column(board, "Doing")
    cards = {
        "vpn": make.card(
            board,
            ann,
            "VPN drops every hour",
            owner="bob",
            type="incident",
            tags="network",
            impact="high",
            urgency="high",
            column=doing,
        ),
        "laptop": make.card(
            board,
            ann,
            "New laptop for Cid",
            owner="ann",
            type="service_request",
            tags="hardware",
            column=doing,
        ),
        "mail": make.card(
            board,
            ann,
            "Mailbox quota",
            description="Raise the VPN team's quota",
            type="service_request",
            column=doing,
        ),
    }
    block_card(cards["mail"], bob, "Waiting for licence")
    db.session.commit()
    return board, ann, bob, cards


def titles_shown(board, me="ann", **criteria):
    view = board_view(board, CardFilter(**criteria), me_username=me)
    return sorted(v.card.title for cell in view.cells.values() for v in cell)


def test_filter_by_text_searches_key_title_description_and_tags(filtered):
    board, *_ = filtered
    assert titles_shown(board, q="vpn") == ["Mailbox quota", "VPN drops every hour"]
    assert titles_shown(board, q="SIM-2") == ["New laptop for Cid"]
    assert titles_shown(board, q="HARDWARE") == ["New laptop for Cid"]
    assert titles_shown(board, q="nothing like this") == []


def test_filter_by_owner_me_and_none(filtered):
    board, *_ = filtered
    assert titles_shown(board, owner="bob") == ["VPN drops every hour"]
    assert titles_shown(board, owner="me", me="ann") == ["New laptop for Cid"]
    assert titles_shown(board, owner="me", me="bob") == ["VPN drops every hour"]
    assert titles_shown(board, owner="none") == ["Mailbox quota"]


def test_filter_by_type_tag_priority_and_blocked_combine(filtered):
    board, *_ = filtered
    assert titles_shown(board, type="service_request") == ["Mailbox quota", "New laptop for Cid"]
    assert titles_shown(board, tag="Network") == ["VPN drops every hour"]
    assert titles_shown(board, priority="p1") == ["VPN drops every hour"]
    assert titles_shown(board, priority="P3") == ["Mailbox quota", "New laptop for Cid"]
    assert titles_shown(board, blocked="yes") == ["Mailbox quota"]
    assert titles_shown(board, blocked="no") == ["New laptop for Cid", "VPN drops every hour"]
    assert titles_shown(board, type="service_request", blocked="no") == ["New laptop for Cid"]


def test_filter_from_query_args_trims_and_knows_when_active():
    card_filter = CardFilter.from_args({"q": "  vpn ", "owner": "me", "colour": "red"})
    assert (card_filter.q, card_filter.owner) == ("vpn", "me")
    assert card_filter.active and card_filter.as_args() == {"q": "vpn", "owner": "me"}
    assert not CardFilter.from_args({}).active


def test_wip_counts_ignore_the_filter(filtered):
    board, ann, _, _ = filtered
    update_column(board, ann, find_column(board, "Doing"), wip_limit=3)
    db.session.commit()
    view = board_view(board, CardFilter(owner="bob"), me_username="ann")
    doing = next(c for c in view.columns if c.column.name == "Doing")
    assert (doing.count, doing.state) == (3, "at")
    assert (view.shown, view.total) == (1, 3)


def test_board_view_marks_the_commitment_point_and_lane_counts(simple):
    board, ann, _ = simple
    expedite = add_lane(board, ann, name="Expedite", class_of_service="expedite", wip_limit=1)
    db.session.commit()
    make.card(board, ann, "backlog, not counted", lane=expedite)
    make.card(board, ann, "in progress", lane=expedite, column=find_column(board, "Doing"))
    view = board_view(board)
    assert [c.column.name for c in view.columns if c.is_commitment_point] == ["Doing"]
    lane = next(ln for ln in view.lanes if ln.lane.name == "Expedite")
    assert (lane.count, lane.state) == (1, "at")


# --- text safety ---------------------------------------------------------------------------


def test_markup_in_titles_and_descriptions_is_stored_verbatim(simple):
    board, ann, _ = simple
    title = "<script>alert('x')</script> & <b>bold</b>"
    card = make.card(board, ann, title, description="<img src=x onerror=alert(1)>")
    card = reload(card)
    assert card.title == title
    assert card.description == "<img src=x onerror=alert(1)>"


def test_markdown_keeps_formatting_and_drops_scripts():
    html = str(render_markdown("**bold** and _em_\n\n<script>alert(1)</script>"))
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<script" not in html.lower()


class _Tags(HTMLParser):
    """The real elements and attributes in rendered HTML (escaped text does not count)."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {name: value or "" for name, value in attrs}))


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">click</a>',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        '<p onclick="alert(1)">hi</p>',
        "<iframe src=https://evil.example></iframe>",
        "<script>alert(1)</script>",
    ],
)
def test_markdown_never_emits_active_content(text):
    elements = _Tags(str(render_markdown(text))).found
    assert {tag for tag, _ in elements} <= {"p", "a", "img", "strong", "em", "code"}
    assert all(tag not in ("script", "iframe") for tag, _ in elements)
    for _tag, attrs in elements:
        assert not any(name.startswith("on") for name in attrs), attrs
        for name in ("href", "src"):
            scheme = attrs.get(name, "").strip().lower()
            assert not scheme.startswith(("javascript:", "data:")), attrs


def test_raw_html_in_markdown_is_shown_as_typed():
    assert str(render_markdown("<b>hi</b>")) == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_markdown_links_stay_but_cannot_reach_back_to_the_opener():
    html = str(render_markdown("[runbook](https://wiki.example/runbook)"))
    assert 'href="https://wiki.example/runbook"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_markdown_of_nothing_is_empty():
    assert str(render_markdown(None)) == ""
