"""Reminders, each sent once (a notification's `key`): a card of mine due tomorrow (in the
board's time zone), a card of mine in progress longer than the board's SLE, a swarm invitation
left unanswered for INVITATION_REMINDER_MINUTES. The background runner asks every round."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.boards.models import Board, BoardColumn
from app.cards.age import card_age_days
from app.cards.models import Card
from app.clock import utcnow
from app.extensions import db
from app.metrics.flow import service_level_expectation
from app.notifications.services import notify
from app.swarms.models import Swarm, SwarmInvitation


def remind_due(now: datetime | None = None) -> set[int]:
    """Write the reminders that have come due; returns who got one (not yet committed)."""
    now = now or utcnow()
    return _due_tomorrow(now) | _past_sle(now) | _waiting_invitations(now)


def _open_cards_with_owners():
    return (select(Card).join(BoardColumn, BoardColumn.id == Card.column_id)
            .where(Card.owner_id.is_not(None), Card.archived_at.is_(None),
                   BoardColumn.kind != "done"))


def _local_date(board: Board, now: datetime):
    try:
        zone = ZoneInfo(board.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()


def _due_tomorrow(now: datetime) -> set[int]:
    told: set[int] = set()
    near = [now.date() + timedelta(days=d) for d in (0, 1, 2)]  # tomorrow, in any time zone
    for card in db.session.scalars(_open_cards_with_owners().where(Card.due_date.in_(near))):
        if card.due_date != _local_date(card.board, now) + timedelta(days=1):
            continue
        told |= set(notify(
            [card.owner_id], kind="reminder", key=f"due:{card.id}:{card.due_date.isoformat()}",
            text=f"Due tomorrow ({card.due_date.isoformat()}), in {card.column.name}",
            url=f"/cards/{card.key}", board_id=card.board_id, card_id=card.id, at=now))
    return told


def _past_sle(now: datetime) -> set[int]:
    told: set[int] = set()
    started = db.session.scalars(_open_cards_with_owners().where(Card.started_at.is_not(None),
                                                                  Card.finished_at.is_(None)))
    sle_of: dict[int, float | None] = {}
    for card in started:
        if card.board_id not in sle_of:
            sle_of[card.board_id] = service_level_expectation(card.board_id, now)
        sle, age = sle_of[card.board_id], card_age_days(card, now)
        if sle is None or age is None or age <= sle:
            continue
        told |= set(notify(
            [card.owner_id], kind="reminder", key=f"sle:{card.id}:{card.started_at:%Y%m%d%H%M%S}",
            text=f"Past the SLE: in progress {age:.1f} days; 85% of this board's cards finish "
                 f"within {sle:.1f}",
            url=f"/cards/{card.key}", board_id=card.board_id, card_id=card.id, at=now))
    return told


def _waiting_invitations(now: datetime) -> set[int]:
    told: set[int] = set()
    minutes = current_app.config["INVITATION_REMINDER_MINUTES"]
    waiting = db.session.scalars(
        select(SwarmInvitation).join(Swarm).where(
            SwarmInvitation.status == "pending", Swarm.status == "open",
            SwarmInvitation.expires_at > now,
            SwarmInvitation.created_at <= now - timedelta(minutes=minutes)))
    for invitation in waiting:
        swarm = invitation.swarm
        waited = int((now - invitation.created_at).total_seconds() // 60)
        told |= set(notify(
            [invitation.user_id], kind="reminder", key=f"invitation:{invitation.id}",
            text=f"{invitation.invited_by.display_name}'s invitation to the swarm is waiting "
                 f"for your answer ({waited} min): {swarm.help_needed}",
            url=f"/swarms/{swarm.id}", board_id=swarm.board_id, card_id=swarm.card_id,
            invitation_id=invitation.id, at=now))
    return told
