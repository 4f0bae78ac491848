"""Notifications from the event log (app/events/hooks.py): written just before the transaction
that recorded the events commits, so the change and the word of it are stored together (or
neither is); each person's unread count is pushed to their room once the commit succeeded."""

import logging

from flask import current_app, get_template_attribute
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.boards.models import Board
from app.boards.services import members_of
from app.broadcast import emit_to_room
from app.cards.models import Card, Comment
from app.events import hooks
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.services import (
    PRESSING,
    able_to_see,
    mentioned,
    notify,
    swarming_on,
    unread_counts,
    watchers,
)
from app.swarms.live import user_room
from app.swarms.models import Swarm, SwarmMessage

log = logging.getLogger(__name__)
COUNTS = "inbox_counts"
# The changes to a card its owner and watchers hear of (not every swarm-room word or checklist
# tick: the room shows those to whoever is in it).
CHANGES = (
    "card.created", "card.moved", "card.updated", "card.blocked", "card.unblocked",
    "card.commented", "card.archived", "card.restored", "card.andon_cleared",
    "card.linked", "swarm.started", "swarm.resolved", "swarm.cancelled", "swarm.decision",
    "alert.fired", "alert.resolved",
)
# Every event someone may hear of: the rest are passed over without a query.
# A budget running low or out: every member hears, as of an andon pull (app/slos).
BUDGET_TROUBLE = ("slo.budget_low", "slo.budget_exhausted")
HEARD = frozenset(CHANGES) | {"swarm.invited", "card.commented", "swarm.message",
                              "card.andon_pulled", *BUDGET_TROUBLE}
EXCERPT = 160


def who_hears(board, event) -> dict[int, str]:
    """Each person who should hear of the event, with the most pressing kind that applies."""
    if event.type not in HEARD:
        return {}  # swarm tasks, checklist ticks…: nobody is told, nothing to look up
    heard: dict[int, str] = {}

    def add(user_ids, kind: str) -> None:
        for user_id in user_ids:
            if user_id not in heard or PRESSING.index(kind) < PRESSING.index(heard[user_id]):
                heard[user_id] = kind

    data, card = event.data or {}, _card(event)
    in_swarm = swarming_on(card.id) if card is not None else set()
    invited = set()
    if event.type == "swarm.invited":
        invited = _ids_of([data.get("user")])
        add(invited, "invitation")
    if event.type in ("card.commented", "swarm.message"):
        add(_ids_of(mentioned(_said(event))), "mention")
    if event.type == "card.andon_pulled":
        add({member.user_id for member in members_of(board)}, "andon")
    if event.type in BUDGET_TROUBLE:
        add({member.user_id for member in members_of(board)}, "budget")
    if card is not None and event.type in CHANGES:
        columns = {event.from_column_id, event.to_column_id, card.column_id} - {None}
        concerned = watchers(board.id, card.id, columns) | in_swarm
        if card.owner_id:
            concerned.add(card.owner_id)
        owners = (data.get("changes") or {}).get("owner")
        if owners:  # the owner before a change of owner hears of it too
            concerned |= _ids_of([owners[0]])
        add(concerned, "change")
    heard.pop(event.actor_id, None)
    allowed = able_to_see(board.id, set(heard)) | in_swarm | invited
    return {user_id: kind for user_id, kind in heard.items() if user_id in allowed}


def _ids_of(usernames) -> set[int]:
    names = [name.lower() for name in usernames if isinstance(name, str)]
    if not names:
        return set()
    return set(db.session.scalars(select(User.id).where(User.username.in_(names))))


def _card(event) -> Card | None:
    return db.session.get(Card, event.card_id) if event.card_id else None


def _said(event) -> str:
    """The words of a comment or swarm message the event records."""
    data = event.data or {}
    if event.type == "card.commented" and data.get("comment"):
        comment = db.session.get(Comment, data["comment"])
        return comment.body if comment else ""
    if event.type == "swarm.message" and data.get("message"):
        message = db.session.get(SwarmMessage, data["message"])
        return message.body if message else ""
    return ""


def sentence(event, kind: str) -> str:
    """What happened, as the inbox says it (the card it is about is shown beside it)."""
    who = event.actor.display_name if event.actor is not None else "Swarmboard"
    data = event.data or {}
    if kind == "mention":
        words = " ".join(_said(event).split())
        excerpt = words if len(words) <= EXCERPT else words[:EXCERPT - 1] + "…"
        where = "in the swarm room" if event.type == "swarm.message" else "in a comment"
        return f"{who} mentioned you {where}: “{excerpt}”"
    if kind == "invitation":
        swarm = db.session.get(Swarm, data.get("swarm")) if data.get("swarm") else None
        need = f": {swarm.help_needed}" if swarm is not None else ""
        return f"{who} invited you to the swarm{need}"
    return f"{who} {_event_text()(event).striptags()}"


def _event_text():
    """The card history's sentence macro (templates/cards/_history.html), loaded once per app:
    building the template's module costs more than saying the sentence."""
    macro = current_app.extensions.get("sb_event_text")
    if macro is None or current_app.jinja_env.auto_reload:
        macro = get_template_attribute("cards/_history.html", "event_text")
        current_app.extensions["sb_event_text"] = macro
    return macro


def _url(event, card: Card | None) -> str:
    data = event.data or {}
    if event.type.startswith("swarm.") and data.get("swarm"):
        return f"/swarms/{data['swarm']}"
    if card is not None:
        return f"/cards/{card.key}"
    key = db.session.get(Board, event.board_id).key
    if event.type.startswith("slo."):
        return f"/boards/{key}/slos#slo-{data.get('objective')}"
    return f"/boards/{key}"


ANSWERS = ("swarm.invitation_accepted", "swarm.invitation_declined")


@hooks.committing.connect
def _write_notifications(session: Session, *, batch: hooks.Batch) -> None:
    told: set[int] = set()
    for board, event in batch.events:
        if event.type in ANSWERS:  # answered, wherever from: its notification is done with
            told |= read_invitation(event.data.get("invitation"), event.at)
        try:
            heard = who_hears(board, event)
        except Exception:  # a notification must never cost the change itself
            log.exception("Working out who hears of %s %s failed", board.key, event.seq)
            continue
        by_kind: dict[str, set[int]] = {}
        for user_id, kind in heard.items():
            by_kind.setdefault(kind, set()).add(user_id)
        card = _card(event)
        for kind, user_ids in by_kind.items():
            told |= set(notify(
                user_ids, kind=kind, text=sentence(event, kind), url=_url(event, card),
                board_id=board.id, card_id=event.card_id, actor_id=event.actor_id,
                event_seq=event.seq, at=event.at,
                invitation_id=(event.data or {}).get("invitation") if kind == "invitation"
                else None))
    if told:
        session.flush()
        batch.kept[COUNTS] = unread_counts(told)


def read_invitation(invitation_id, at) -> set[int]:
    """Mark the invitation's notification read; returns whose count changed."""
    done = db.session.scalars(select(Notification).where(
        Notification.invitation_id == invitation_id, Notification.read_at.is_(None))).all()
    for notification in done:
        notification.read_at = at
    return {notification.user_id for notification in done}


def ring(counts: dict[int, int]) -> None:
    """Bring each person's bell to their unread count, on every page they have open."""
    for user_id, unread in counts.items():
        emit_to_room("inbox", {"unread": unread}, user_room(user_id))


@hooks.committed.connect
def _ring_bells(session: Session, *, batch: hooks.Batch) -> None:
    ring(batch.kept.get(COUNTS, {}))
