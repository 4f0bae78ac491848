"""Swarm rooms live: a Socket.IO room per swarm and one per person, pushed after commit.

The swarm services record `swarm.*` events like every change. Just before the transaction
commits, the events of each swarm become one `swarm_event` message for its room (the fragments
the events changed, rendered once for every viewer), and invitations become `invitation`
messages for the invitee's own room; they are sent once the commit has succeeded, and dropped
on a rollback, as board pushes are: both subscribe to the event log (app/events/hooks.py).
"""

from contextlib import nullcontext

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.broadcast import emit_to_room
from app.database import rows
from app.events import hooks
from app.extensions import db, socketio
from app.swarms.models import Swarm

READY = "swarm_pushes"
SKIP = "swarm_push_skip_sid"

# Which part of the room each event changes (templates/swarms/_room.html ids).
MEMBERS = ("swarm.joined", "swarm.left", "swarm.invitation_accepted")
INVITES = ("swarm.invited", "swarm.invitation_accepted", "swarm.invitation_declined",
           "swarm.joined")
DECISIONS = ("swarm.decision", "swarm.decision_unpinned")
TASKS = ("swarm.task_added", "swarm.task_done", "swarm.task_reopened")
# After these the whole room looks different (closed, open again): views fetch it anew.
RESHAPES = ("swarm.resolved", "swarm.cancelled", "swarm.reopened")
INVITATION_ANSWERS = ("swarm.invitation_accepted", "swarm.invitation_declined")


def swarm_room(swarm_id: int) -> str:
    return f"swarm:{swarm_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def room_update(swarm, events) -> dict:
    """One message bringing any open view of the room from before `events` to after them."""
    from app.swarms.view import render_room_parts

    types = [event.type for event in events]  # the card's own events too (see card_changes)
    message = {"swarm": swarm.id, "seq": events[-1].seq, "types": types}
    if any(t in RESHAPES for t in types):
        message["refresh"] = True
        return message
    declined = [e for e in events if e.type == "swarm.invitation_declined"]
    message["html"] = render_room_parts(
        swarm,
        messages=[e.data["message"] for e in events if e.type == "swarm.message"],
        repinned=[e.data["message"] for e in events if e.type in DECISIONS],
        members=any(t in MEMBERS for t in types),
        invites=any(t in INVITES for t in types) or bool(declined),
        decisions=any(t in DECISIONS for t in types),
        tasks=any(t in TASKS for t in types),
        declined=declined[-1] if declined else None,
    )
    return message


def shut_out(swarm, events) -> list[tuple[str, str]]:
    """Invitees whose answer or withdrawn invitation leaves them no way into the room: their
    sockets leave it (they joined it as guests while the invitation stood)."""
    from app.accounts.models import User
    from app.swarms.services import swarm_access

    declined = {e.data.get("user") for e in events if e.type == "swarm.invitation_declined"}
    ended = any(e.type in ("swarm.resolved", "swarm.cancelled") for e in events)
    if not declined and not ended:
        return []
    invitees = {i.user_id for i in swarm.invitations
                if i.user.username in declined or (ended and i.status == "cancelled")}
    return [(user_room(user_id), swarm_room(swarm.id)) for user_id in invitees
            if swarm_access(swarm, db.session.get(User, user_id)) is None]


def invitation_updates(swarm, events) -> list[tuple[str, dict]]:
    """`invitation` messages for invitees: a new invitation (the toast and the header count),
    or one answered or withdrawn (its toast goes, the count follows)."""
    from app.swarms.models import SwarmInvitation
    from app.swarms.view import render_invitation_push

    updates = []
    for event in events:
        if event.type == "swarm.invited" or event.type in INVITATION_ANSWERS:
            invitation = db.session.get(SwarmInvitation, event.data["invitation"])
            updates.append((invitation, event.type == "swarm.invited"))
        elif event.type in ("swarm.resolved", "swarm.cancelled"):
            updates += [(i, False) for i in swarm.invitations if i.status == "cancelled"]
    return [
        (user_room(invitation.user_id), {
            "invitation": invitation.id, "swarm": swarm.id, "status": invitation.status,
            "html": render_invitation_push(invitation, toast=new),
        })
        for invitation, new in updates
    ]


# Built once, run with parameters: every commit that changes a card asks (app/database.py).
_OPEN_ON_CARDS = select(Swarm.id, Swarm.card_id).where(
    Swarm.card_id.in_(bindparam("cards", expanding=True)), Swarm.status == "open"
)


def card_changes(pending) -> dict[int, list]:
    """Open swarms whose card the pending events changed (moved, edited, blocked…: anything
    but the swarms' own events), with those events: their rooms' card panel is redrawn."""
    on_card: dict[int, list] = {}
    for _board, event in pending:
        if event.card_id and not event.type.startswith("swarm."):
            on_card.setdefault(event.card_id, []).append(event)
    if not on_card:
        return {}
    found = rows(db.session, _OPEN_ON_CARDS, {"cards": list(on_card)})
    return {swarm_id: on_card[card_id] for swarm_id, card_id in found}


@hooks.committing.connect
def _render_swarm_pushes(session: Session, *, batch: hooks.Batch) -> None:
    pending = batch.events
    by_swarm: dict[int, list] = {}
    for _board, event in pending:
        if event.type.startswith("swarm.") and isinstance(event.data, dict) \
                and event.data.get("swarm"):
            by_swarm.setdefault(event.data["swarm"], []).append(event)
    panels = card_changes(pending)
    if not by_swarm and not panels:
        return
    from app.swarms.view import render_card_panel

    context = nullcontext() if has_request_context() else current_app.test_request_context("/")
    ready = []
    with context:
        for swarm_id in sorted(by_swarm.keys() | panels.keys()):
            swarm = db.session.get(Swarm, swarm_id)
            events = sorted(by_swarm.get(swarm_id, []) + panels.get(swarm_id, []),
                            key=lambda e: e.seq)
            try:
                update = room_update(swarm, events)
                if swarm_id in panels and not update.get("refresh"):
                    update["html"] += render_card_panel(swarm)
                if update.get("html") or update.get("refresh"):  # not, say, a swarm just started
                    ready.append(("swarm_event", swarm_room(swarm_id), update))
                ready += [("invitation", to, message)
                          for to, message in invitation_updates(swarm, events)]
                ready += [("evict", person, room) for person, room in shut_out(swarm, events)]
            except Exception:  # a push must never cost the change itself: views re-fetch
                current_app.logger.exception("Rendering the push for swarm %s failed", swarm_id)
                ready.append(("swarm_event", swarm_room(swarm_id),
                              {"swarm": swarm_id, "seq": events[-1].seq, "refresh": True}))
    batch.kept[READY] = ready
    # The sender's own page is answered with the change: its echo would only race that answer.
    batch.kept[SKIP] = request.headers.get("X-Socket-Id") if has_request_context() else None


@hooks.committed.connect
def _send_swarm_pushes(session: Session, *, batch: hooks.Batch) -> None:
    skip = batch.kept.get(SKIP)
    for name, to, message in batch.kept.get(READY, []):
        if name == "evict":
            evict(to, message)
        else:
            emit_to_room(name, message, to, skip_sid=skip if name == "swarm_event" else None)


def evict(person_room: str, room: str) -> None:
    """A person's sockets leave a swarm's room. Sockets are found in this process (their own
    room's participants); the leaving itself reaches every process through the message queue."""
    manager = socketio.server.manager
    for sid, _eio_sid in list(manager.get_participants("/", person_room)):
        socketio.server.leave_room(sid, room, namespace="/")


@sa_event.listens_for(Session, "after_rollback")
def _drop_rendered_messages(session: Session) -> None:
    from app.swarms.view import RENDERED

    session.info.pop(RENDERED, None)
