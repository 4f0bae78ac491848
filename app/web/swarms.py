"""Swarm rooms and invitations: thin routes over app.swarms.services.

Each action calls one service, commits, and answers HTMX with the room as the server now has it
(a posted message: just that message); the room's other views hear of it from app.swarms.live.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.extensions import db, htmx
from app.swarms import services
from app.swarms.services import get_invitation, get_swarm
from app.swarms.view import invitation_count, message_html, room_context
from app.web import go_to

bp = Blueprint("swarms", __name__, url_prefix="/swarms")


@bp.app_template_global("pending_invitation_count")
def pending_invitation_count() -> int:
    """For the header's count (base.html)."""
    return invitation_count(current_user)


def render_room(swarm, message: str | None = None, status: int = 200):
    context = room_context(swarm, current_user)
    if not htmx:
        return render_template("swarms/room.html", **context), status
    html = render_template("swarms/_room.html", **context)
    if message:
        html += render_template("_flash_oob.html", message=message, level="success")
    return html, status


def room_action(swarm, message: str):
    db.session.commit()
    if not htmx:
        flash(message, "success")
        return redirect(url_for("swarms.room", swarm_id=swarm.id))
    return render_room(swarm, message)


@bp.get("/<int:swarm_id>")
@login_required
def room(swarm_id: int):
    return render_room(get_swarm(swarm_id, current_user))


@bp.post("/<int:swarm_id>/join")
@login_required
def join(swarm_id: int):
    swarm = get_swarm(swarm_id, current_user)
    services.join_swarm(swarm, current_user)
    return room_action(swarm, "You joined the swarm.")


@bp.post("/<int:swarm_id>/leave")
@login_required
def leave(swarm_id: int):
    swarm = get_swarm(swarm_id, current_user)
    services.leave_swarm(swarm, current_user)
    return room_action(swarm, "You left the swarm; its room stays open to you.")


@bp.post("/<int:swarm_id>/messages")
@login_required
def post_message(swarm_id: int):
    swarm = get_swarm(swarm_id, current_user)
    message = services.post_message(swarm, current_user, request.form.get("body", ""))
    html = message_html(message)  # before the commit: the room's push sends the same HTML
    target = url_for("swarms.room", swarm_id=swarm.id) + f"#message-{message.id}"
    db.session.commit()
    return html if htmx else redirect(target)


@bp.post("/<int:swarm_id>/messages/<int:message_id>/pin")
@login_required
def pin(swarm_id: int, message_id: int):
    swarm = get_swarm(swarm_id, current_user)
    pinned = request.form.get("pinned", "1") != "0"
    services.pin_decision(swarm, current_user, message_id, pinned=pinned)
    return room_action(swarm, "Pinned as a decision." if pinned else "Decision unpinned.")


@bp.post("/<int:swarm_id>/tasks")
@login_required
def add_task(swarm_id: int):
    swarm = get_swarm(swarm_id, current_user)
    services.add_task(swarm, current_user, request.form.get("text", ""),
                      request.form.get("assignee") or None)
    return room_action(swarm, "Task added.")


@bp.post("/<int:swarm_id>/tasks/<int:task_id>")
@login_required
def tick_task(swarm_id: int, task_id: int):
    swarm = get_swarm(swarm_id, current_user)
    done = bool(request.form.get("done"))
    services.set_task_done(swarm, current_user, task_id, done)
    return room_action(swarm, "Task done." if done else "Task open again.")


@bp.post("/<int:swarm_id>/invitations")
@login_required
def invite(swarm_id: int):
    swarm = get_swarm(swarm_id, current_user)
    invitation = services.invite(swarm, current_user, request.form.get("username", "").strip(),
                                 why=request.form.get("why", ""))
    return room_action(swarm, f"{invitation.user.display_name} is invited.")


@bp.post("/<int:swarm_id>/resolve")
@login_required
def resolve(swarm_id: int):
    swarm = get_swarm(swarm_id, current_user)
    form = request.form
    services.resolve_swarm(swarm, current_user, continued_by=form.get("continued_by") or None,
                           outcome=form.get("outcome", ""), learned=form.get("learned", ""))
    return room_action(swarm, f"Resolved: {swarm.continued_by.display_name} continues with "
                              f"{swarm.card.key}; everyone else is released.")


@bp.post("/<int:swarm_id>/cancel")
@login_required
def cancel(swarm_id: int):
    swarm = get_swarm(swarm_id, current_user)
    services.cancel_swarm(swarm, current_user, reason=request.form.get("reason", ""))
    return room_action(swarm, "The swarm is cancelled.")


@bp.post("/<int:swarm_id>/reopen")
@login_required
def reopen(swarm_id: int):
    swarm = get_swarm(swarm_id, current_user)
    services.reopen_swarm(swarm, current_user)
    return room_action(swarm, "The swarm is open again.")


# --- answering an invitation (from the toast, My work, or the room) --------------------------


@bp.post("/invitations/<int:invitation_id>/accept")
@login_required
def accept(invitation_id: int):
    invitation = get_invitation(invitation_id, current_user)
    swarm = services.accept_invitation(invitation, current_user)
    db.session.commit()
    return go_to(url_for("swarms.room", swarm_id=swarm.id))


@bp.post("/invitations/<int:invitation_id>/decline")
@login_required
def decline(invitation_id: int):
    invitation = get_invitation(invitation_id, current_user)
    services.decline_invitation(invitation, current_user, reason=request.form.get("reason", ""))
    db.session.commit()
    message = f"You declined the swarm on {invitation.swarm.card.key}."
    if not htmx:
        flash(message, "success")
        return redirect(url_for("accounts.home"))
    html = render_template("swarms/_invitation_count.html", oob=True,
                           count=invitation_count(current_user))
    html += render_template("_flash_oob.html", message=message, level="success")
    return html  # the toast or list entry is replaced by nothing
