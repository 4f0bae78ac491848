"""What the swarm room shows: the whole page for one viewer, and the viewer-neutral fragments a
push carries (the same templates render both)."""

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select

from app.accounts.models import User
from app.boards.access import board_role
from app.cards.services import assignable_people
from app.clock import utcnow
from app.events.services import card_history
from app.extensions import db
from app.swarms.experts import suggestions_for
from app.swarms.models import Swarm, SwarmInvitation, SwarmMessage
from app.swarms.services import can_steer, messages_of, pending_invitations, swarm_access, tasks_of

SUGGESTED = 5
RENDERED = "sb_rendered_messages"  # message id → its HTML, rendered once for answer and push


def message_html(message: SwarmMessage) -> str:
    """One message as every view shows it; the sender's answer and the room's push share it."""
    html = render_template("swarms/_message.html", message=message)
    db.session.info.setdefault(RENDERED, {})[message.id] = html
    return html


def shared_context(swarm: Swarm) -> dict:
    """What every viewer of the room sees alike."""
    messages = messages_of(swarm)
    return dict(
        swarm=swarm,
        card=swarm.card,
        messages=messages,
        decisions=[m for m in messages if m.pinned_at is not None],
        tasks=tasks_of(swarm),
        stints=list(swarm.stints),
        present=swarm.present(),
        invitations=list(swarm.invitations),
        suggestions=suggestions_for(swarm, limit=SUGGESTED) if swarm.is_open else [],
        now=utcnow(),
    )


def room_context(swarm: Swarm, user: User) -> dict:
    """The room for one viewer: what they may do in it."""
    access = swarm_access(swarm, user)
    in_room = any(stint.user_id == user.id for stint in swarm.present())
    context = shared_context(swarm)
    context.update(
        access=access,
        board_role=board_role(swarm.board, user),
        in_room=in_room,
        can_join=swarm.is_open and not in_room and access in ("member", "owner", "guest"),
        can_invite=swarm.is_open and (in_room or access in ("member", "owner")),
        can_steer=can_steer(swarm, user),
        successors=assignable_people(swarm.board),
        history=card_history(swarm.card),
    )
    return context


def render_room_parts(swarm: Swarm, *, messages=(), repinned=(), members=False, invites=False,
                      decisions=False, tasks=False, declined=None) -> str:
    """Out-of-band fragments for what changed: new messages appended, re-pinned messages
    replaced, and the members, invitations, decisions or task lists re-rendered. Only what a
    part needs is read (a message alone, the commonest push, reads just that message)."""
    parts = []
    rendered = db.session.info.pop(RENDERED, {})
    for message_id in messages:
        html = rendered.get(message_id) or message_html(db.session.get(SwarmMessage, message_id))
        parts.append(f'<div hx-swap-oob="beforeend:#swarm-messages">{html}</div>')
    for message_id in set(repinned) - set(messages):
        message = db.session.get(SwarmMessage, message_id)
        parts.append(render_template("swarms/_message.html", message=message, oob="true"))
    context = dict(swarm=swarm, now=utcnow())
    if invites or declined is not None:
        context["suggestions"] = suggestions_for(swarm, limit=SUGGESTED) if swarm.is_open else []
    if members:
        parts.append(render_template("swarms/_members.html", oob=True, stints=swarm.stints,
                                     present=swarm.present(), **context))
    if invites:
        parts.append(render_template("swarms/_invite.html", oob=True,
                                     invitations=swarm.invitations, **context))
    if decisions:
        pinned = [m for m in messages_of(swarm) if m.pinned_at is not None]
        parts.append(render_template("swarms/_decisions.html", oob=True, decisions=pinned,
                                     **context))
    if tasks:
        parts.append(render_template("swarms/_tasks.html", oob=True, tasks=tasks_of(swarm),
                                     present=swarm.present(), **context))
    if declined is not None:
        invitation = db.session.get(SwarmInvitation, declined.data["invitation"])
        parts.append(render_template("swarms/_notice.html", declined=invitation,
                                     next_up=context["suggestions"][:1], **context))
    return "".join(parts)


def render_card_panel(swarm: Swarm) -> str:
    """The room's card panel, out of band: pushed when the card changes under the swarm (moved,
    edited, blocked…), so everyone in the room sees where the card stands and its history."""
    return render_template("swarms/_card.html", card=swarm.card,
                           history=card_history(swarm.card), oob=True)


def render_invitation_push(invitation: SwarmInvitation, *, toast: bool) -> Markup:
    """For the invitee's pages: the header count, and a new invitation's toast (the page
    takes away the toast of one answered or withdrawn)."""
    count = len(pending_invitations(invitation.user))
    html = render_template("swarms/_invitation_count.html", count=count, oob=True)
    if toast:
        html += render_template("swarms/_toast.html", invitation=invitation)
    return Markup(html)


def invitation_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return len(pending_invitations(user))


def swarms_of(user: User, limit: int = 10) -> list[Swarm]:
    """Open swarms I am in (My work)."""
    from app.swarms.models import SwarmStint

    return list(db.session.scalars(
        select(Swarm).join(SwarmStint)
        .where(SwarmStint.user_id == user.id, SwarmStint.left_at.is_(None),
               Swarm.status == "open")
        .order_by(Swarm.started_at.desc()).limit(limit)
    ).unique())
