"""The demo board: what someone logging in as the demo user sees must be true and consistent."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import authenticate
from app.boards.access import board_role
from app.boards.models import Board
from app.cards.models import Card
from app.cards.wip import column_counts
from app.clock import utcnow
from app.demo import DEMO_PASSWORD, DEMO_USER, seed_demo
from app.events.models import Event
from app.extensions import db

DAYS = 60


@pytest.fixture
def demo(app):
    board = seed_demo(days=DAYS)
    db.session.commit()
    return board


def live_cards(board: Board) -> list[Card]:
    return list(
        db.session.scalars(
            select(Card).where(Card.board_id == board.id, Card.archived_at.is_(None))
        )
    )


def test_demo_user_can_log_in_and_owns_the_service_desk_board(app):
    demo = seed_demo(days=7)  # who is who does not depend on how much history there is
    db.session.commit()
    alice = authenticate(DEMO_USER, DEMO_PASSWORD)
    assert alice is not None and alice.display_name == "Alice Moreau"
    assert demo.key == "SUP" and demo.name == "Service Desk"
    assert board_role(demo, alice) == "owner"
    viewer = authenticate("viewer", DEMO_PASSWORD)
    assert board_role(demo, viewer) == "viewer"
    for name in ("bob", "carol", "dan", "erin"):
        person = db.session.scalar(select(User).where(User.username == name))
        assert board_role(demo, person) == "member"
        assert person.skills, f"{name} should have skills to be suggested for swarms"


def test_demo_board_shows_work_in_flight_blocked_and_finished(demo):
    cards = live_cards(demo)
    total = db.session.scalar(select(func.count(Card.id)).where(Card.board_id == demo.id))
    assert 150 <= total <= 300
    in_progress = [c for c in cards if c.column.kind in ("queue", "active")]
    assert 8 <= len(in_progress) <= 25
    assert len({c.column.name for c in in_progress}) >= 3, "work should sit in several columns"
    assert any(c.blocked and c.blocked_reason for c in cards), "something is blocked right now"
    finished = [c for c in cards if c.finished_at is not None]
    assert len(finished) > 100
    assert all(c.started_at is not None and c.started_at <= c.finished_at for c in finished)
    assert {c.type for c in cards} >= {"incident", "service_request", "change", "problem"}
    lanes = Counter(c.lane.class_of_service for c in cards)
    assert lanes["expedite"] and lanes["fixed_date"] and lanes["standard"]
    archived = total - len(cards)
    assert archived >= 2


def test_demo_history_is_a_consistent_event_log_over_the_days(demo):
    seqs = db.session.scalars(
        select(Event.seq).where(Event.board_id == demo.id).order_by(Event.seq)
    ).all()
    assert seqs == list(range(1, len(seqs) + 1))
    assert demo.last_seq == len(seqs)

    times = db.session.scalars(
        select(Event.at).where(Event.board_id == demo.id).order_by(Event.seq)
    ).all()
    assert times == sorted(times), "event times follow the log's order"
    now = utcnow()
    assert now - timedelta(days=DAYS + 1) <= times[0] <= now - timedelta(days=DAYS - 1)
    assert now - timedelta(days=3) <= times[-1] <= now

    counts = column_counts(demo.id)
    for column in demo.columns:
        if column.wip_policy == "hard" and column.wip_limit is not None:
            assert counts.get(column.id, 0) <= column.wip_limit, column.name


def test_seeding_again_with_if_empty_changes_nothing_and_says_so(runner):
    first = runner.invoke(args=["seed-demo", "--days", "10"])
    assert first.exit_code == 0, first.output
    assert "Seeded board SUP" in first.output
    board = db.session.scalar(select(Board).where(Board.key == "SUP"))
    seq_before = board.last_seq
    cards_before = db.session.scalar(select(func.count(Card.id)))
    db.session.rollback()

    again = runner.invoke(args=["seed-demo", "--if-empty"])

    assert again.exit_code == 0, again.output
    assert "not seeded" in again.output
    assert db.session.scalar(select(func.count(Board.id))) == 1
    assert db.session.get(Board, board.id).last_seq == seq_before
    assert db.session.scalar(select(func.count(Card.id))) == cards_before


def test_demo_has_a_swarming_history_and_an_invitation_waiting_for_the_demo_user(demo):
    from app.swarms.knowledge import search_swarms
    from app.swarms.models import Swarm
    from app.swarms.services import pending_invitations

    swarms = db.session.scalars(select(Swarm).where(Swarm.board_id == demo.id)).all()
    resolved = [s for s in swarms if s.status == "resolved"]
    assert len(resolved) >= 10
    for swarm in resolved:
        assert swarm.card.started_at <= swarm.started_at <= swarm.ended_at
        assert swarm.card.finished_at is None or swarm.ended_at <= swarm.card.finished_at
        assert swarm.first_expert_at is not None and swarm.outcome
    assert any(s.status == "open" for s in swarms)
    alice = db.session.scalar(select(User).where(User.username == DEMO_USER))
    assert pending_invitations(alice)
    word = next(w for w in resolved[0].outcome.split() if len(w) > 5 and w.isalpha())
    assert resolved[0] in [found.swarm for found in search_swarms(alice, word, limit=50)]
