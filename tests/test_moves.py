"""Moves: WIP limits by policy, lanes, versions, flow dates and ordering."""

import pytest
from sqlalchemy import select

from app.boards.services import add_lane, find_lane, update_column
from app.cards.moves import move_card, place_card
from app.cards.services import archive_card, create_card, restore_card
from app.errors import Invalid, StaleVersion, WipLimitReached
from app.events.models import Event
from app.extensions import db
from tests import factories as make


def limit(board, actor, name, wip_limit, policy):
    update_column(board, actor, make.column(board, name), wip_limit=wip_limit, wip_policy=policy)
    db.session.commit()


def test_move_into_full_hard_column_is_refused_and_nothing_changes(simple):
    board, ann, bob = simple
    limit(board, ann, "Doing", 1, "hard")
    doing = make.column(board, "Doing")
    first = make.card(board, ann, "first")
    second = make.card(board, ann, "second")
    move_card(first, bob, column=doing)
    db.session.commit()
    seq_before = board.last_seq

    with pytest.raises(WipLimitReached, match="WIP limit \\(1/1\\)"):
        move_card(second, bob, column=doing)
    db.session.rollback()

    assert db.session.get(type(second), second.id).column.name == "To do"
    assert db.session.get(type(board), board.id).last_seq == seq_before


def test_soft_limit_allows_the_move_and_records_the_breach(simple):
    board, ann, bob = simple
    limit(board, ann, "Doing", 1, "soft")
    doing = make.column(board, "Doing")
    for title in ("one", "two"):
        move_card(make.card(board, ann, title), bob, column=doing)
        db.session.commit()
    moved = db.session.scalars(select(Event).where(Event.type == "card.moved")).all()
    assert moved[-1].data["over_soft_limit"] == ["column:Doing"]


def test_hard_with_override_needs_a_reason_which_is_recorded(simple):
    board, ann, bob = simple
    limit(board, ann, "Doing", 1, "hard-with-override")
    doing = make.column(board, "Doing")
    move_card(make.card(board, ann, "one"), bob, column=doing)
    db.session.commit()
    second = make.card(board, ann, "two")

    with pytest.raises(WipLimitReached) as refused:
        move_card(second, bob, column=doing)
    assert refused.value.needs_reason
    db.session.rollback()

    move_card(second, bob, column=doing, override_reason="P1 outage, customer waiting")
    db.session.commit()
    override = db.session.scalars(select(Event).where(Event.type == "wip.overridden")).one()
    assert override.data["reason"] == "P1 outage, customer waiting"
    assert override.data["limit"] == 1 and override.actor_id == bob.id


def test_column_limit_counts_cards_in_every_lane(simple):
    board, ann, bob = simple
    limit(board, ann, "Doing", 2, "hard")
    expedite = add_lane(board, ann, name="Expedite", class_of_service="expedite")
    db.session.commit()
    doing = make.column(board, "Doing")
    standard = find_lane(board, "Standard")
    move_card(make.card(board, ann, "a"), bob, column=doing, lane=standard)
    move_card(make.card(board, ann, "b"), bob, column=doing, lane=expedite)
    db.session.commit()
    with pytest.raises(WipLimitReached):
        move_card(make.card(board, ann, "c"), bob, column=doing, lane=standard)


def test_lane_limit_counts_only_work_in_progress(simple):
    board, ann, bob = simple
    expedite = add_lane(board, ann, name="Expedite", class_of_service="expedite", wip_limit=1)
    db.session.commit()
    doing, done = make.column(board, "Doing"), make.column(board, "Done")
    first = make.card(board, ann, "first", lane=expedite)  # in To do: backlog, not counted
    second = make.card(board, ann, "second", lane=expedite)
    move_card(first, bob, column=doing)
    db.session.commit()
    with pytest.raises(WipLimitReached, match="Lane 'Expedite'"):
        move_card(second, bob, column=doing)
    db.session.rollback()
    move_card(first, bob, column=done)  # finishing frees the lane
    move_card(second, bob, column=doing)
    db.session.commit()


def test_moving_within_the_full_column_is_allowed(simple):
    board, ann, bob = simple
    limit(board, ann, "Doing", 2, "hard")
    doing = make.column(board, "Doing")
    a, b = make.card(board, ann, "a"), make.card(board, ann, "b")
    move_card(a, bob, column=doing)
    move_card(b, bob, column=doing)
    db.session.commit()
    move_card(b, bob, column=doing, position=0)
    db.session.commit()
    ordered = sorted([a, b], key=lambda c: c.rank)
    assert [c.title for c in ordered] == ["b", "a"]


def test_stale_version_is_refused(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "contested")
    seen = card.version
    move_card(card, ann, column=make.column(board, "Doing"), version=seen)
    db.session.commit()
    with pytest.raises(StaleVersion):
        move_card(card, bob, column=make.column(board, "Done"), version=seen)


def test_started_on_commitment_point_and_finished_on_done_and_reopened(simple):
    board, ann, bob = simple
    card = make.card(board, ann)
    assert card.started_at is None and card.finished_at is None
    move_card(card, bob, column=make.column(board, "Doing"))
    db.session.commit()
    started = card.started_at
    assert started is not None
    move_card(card, bob, column=make.column(board, "Done"))
    db.session.commit()
    assert card.finished_at is not None
    move_card(card, bob, column=make.column(board, "Doing"))
    db.session.commit()
    assert card.finished_at is None, "moving out of done reopens the card"
    move_card(card, bob, column=make.column(board, "To do"))
    db.session.commit()
    assert card.started_at == started, "the first start is kept"


def test_viewer_cannot_move(simple):
    board, ann, _ = simple
    viewer = make.user("vic")
    make.member(board, viewer, "viewer")
    card = make.card(board, ann)
    from app.errors import Forbidden

    with pytest.raises(Forbidden):
        move_card(card, viewer, column=make.column(board, "Doing"))


def test_cannot_move_to_another_boards_column(simple):
    board, ann, bob = simple
    other = make.board(ann, "simple", key="OTH")
    card = make.card(board, ann)
    with pytest.raises(Invalid, match="within board SIM"):
        move_card(card, ann, column=make.column(other, "Doing"))


def test_archived_cards_do_not_count_and_restore_respects_the_limit(simple):
    board, ann, bob = simple
    limit(board, ann, "Doing", 1, "hard")
    doing = make.column(board, "Doing")
    old = make.card(board, ann, "old")
    move_card(old, bob, column=doing)
    archive_card(old, bob)
    db.session.commit()
    new = make.card(board, ann, "new")
    move_card(new, bob, column=doing)
    db.session.commit()
    with pytest.raises(WipLimitReached):
        restore_card(old, bob)


def test_create_into_full_hard_column_is_refused(simple):
    board, ann, _ = simple
    limit(board, ann, "Doing", 1, "hard")
    doing = make.column(board, "Doing")
    make.card(board, ann, "in", column=doing)
    with pytest.raises(WipLimitReached):
        create_card(board, ann, title="too many", column=doing)


def test_reordering_a_packed_cell_rebalances_ranks_keeping_order(simple):
    board, ann, bob = simple
    cards = [make.card(board, ann, f"c{i}") for i in range(4)]
    # Squeeze ranks together so the next insert has no room between neighbours.
    for i, card in enumerate(cards):
        card.rank = 10 + i
    db.session.commit()
    todo = make.column(board, "To do")
    move_card(cards[3], bob, column=todo, position=1)
    db.session.commit()
    db.session.expire_all()
    order = [c.title for c in sorted(cards, key=lambda c: c.rank)]
    assert order == ["c0", "c3", "c1", "c2"]


def test_placing_a_card_changed_since_it_was_read_is_refused_and_writes_nothing(simple):
    # A move reads its card under the board's lock, so this cannot happen between moves; the
    # UPDATE still checks the version it read, as the ORM's optimistic lock would.
    board, ann, _bob = simple
    card = make.card(board, ann, "raced")
    db.session.commit()
    seen, lane = card.version, card.lane
    cards = type(card).__table__
    db.session.execute(cards.update().where(cards.c.id == card.id).values(version=seen + 5))

    with pytest.raises(StaleVersion, match="changed by someone else"):
        place_card(card, make.column(board, "Doing"), lane, {})
    db.session.rollback()

    stored = db.session.get(type(card), card.id)
    assert (stored.column.name, stored.version) == ("To do", seen)


def test_a_move_reads_back_as_stored_in_the_same_transaction(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "placed")
    db.session.commit()
    doing = make.column(board, "Doing")
    move_card(card, bob, column=doing)
    [event] = db.session.scalars(select(Event).where(Event.type == "card.moved")).all()
    assert card.column is doing and card.version == event.data["version"]
    db.session.commit()
    db.session.expire_all()
    assert (card.column.name, card.version) == ("Doing", event.data["version"])
