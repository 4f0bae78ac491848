"""A board's swarming views (dispatch, drop-in, knowledge search) and the andon webhook."""


from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.boards.access import get_board, require_role
from app.boards.models import Board
from app.boards.services import commitment_point, find_column
from app.cards.services import assignable_people, get_card
from app.clock import utcnow
from app.errors import Invalid, NotFound
from app.extensions import csrf, db, htmx
from app.swarms.andon import pull_by_webhook
from app.swarms.dispatch import (
    dispatch_status,
    incoming_queue,
    information_checklist,
    routable_columns,
    route_card,
    take_card,
)
from app.swarms.experts import _team_mates, available_now, loads
from app.swarms.knowledge import search_swarms
from app.swarms.models import Swarm
from app.swarms.services import get_swarm, join_swarm
from app.web import go_to, incoming_hook

bp = Blueprint("swarming", __name__)

HOOK_BODY_MAX = 16 * 1024


@bp.app_template_global("dispatch_status")
def dispatch_status_global(board: Board):
    """For templates/dispatch/_due.html, included on the board page."""
    return dispatch_status(board)


@bp.app_template_filter("ago")
def ago(moment, now=None) -> str:
    """How long since `moment` (naive UTC), in minutes, hours or days."""
    minutes = int(((now or utcnow()) - moment).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"


@bp.app_template_global("swarm_link")
def swarm_link(swarm: Swarm) -> str:
    """The swarm's room when the room page exists, else its card."""
    if "swarms.room" in current_app.view_functions:
        return url_for("swarms.room", swarm_id=swarm.id)
    return url_for("cards.show", card_key=swarm.card.key)


# --- dispatch --------------------------------------------------------------------------------


def render_queue(board: Board, message: str | None = None, status: int = 200):
    """The dispatch page, or for HTMX its queue fragment with a message."""
    role = require_role(board, current_user)
    context = dict(
        board=board,
        role=role,
        can_edit=role in ("member", "owner"),
        queue=[(card, information_checklist(card)) for card in incoming_queue(board)],
        columns=routable_columns(board),
        people=assignable_people(board),
        dispatch=dispatch_status(board),
        commitment=commitment_point(board),
        now=utcnow(),
    )
    if not htmx:
        return render_template("dispatch/page.html", **context), status
    html = render_template("dispatch/_queue.html", **context)
    if message:
        html += render_template("_flash_oob.html", message=message, level="success")
    return html, status


def _queued_card(board: Board, card_key: str):
    card = get_card(card_key, current_user, "member")
    if card.board_id != board.id:
        raise NotFound(f"There is no card {card_key} on {board.key}.")
    return card


def _done(board: Board, message: str):
    db.session.commit()
    if not htmx:
        flash(message, "success")
        return redirect(url_for("swarming.dispatch", key=board.key))
    return render_queue(board, message)


@bp.get("/boards/<key>/dispatch")
@login_required
def dispatch(key: str):
    return render_queue(get_board(key, current_user))


@bp.post("/boards/<key>/dispatch/<card_key>/take")
@login_required
def take(key: str, card_key: str):
    board = get_board(key, current_user, "member")
    card = take_card(_queued_card(board, card_key), current_user)
    return _done(board, f"{card.key} is yours, in {card.column.name}.")


@bp.post("/boards/<key>/dispatch/<card_key>/route")
@login_required
def route(key: str, card_key: str):
    board = get_board(key, current_user, "member")
    card = _queued_card(board, card_key)
    form = request.form
    column = find_column(board, form["column"], Invalid) if form.get("column") else None
    route_card(card, current_user, column=column, owner=form.get("owner") or None,
               override_reason=form.get("override_reason"))
    owner = f", owned by {card.owner.display_name}" if card.owner else ""
    return _done(board, f"{card.key} routed to {card.column.name}{owner}.")


# --- drop-in ---------------------------------------------------------------------------------


def open_swarms(board: Board) -> list[Swarm]:
    return list(
        db.session.scalars(
            select(Swarm)
            .where(Swarm.board_id == board.id, Swarm.status == "open")
            .order_by(Swarm.started_at)
        )
    )


@bp.get("/boards/<key>/drop-in")
@login_required
def drop_in(key: str):
    """Experts available now, and the board's running swarms anyone on the board may join."""
    board = get_board(key, current_user)
    role = require_role(board, current_user)
    experts = available_now()
    ids = [user.id for user, _ in experts]
    load, same_team = loads(ids), _team_mates(board, ids)
    swarms = open_swarms(board)
    return render_template(
        "dispatch/drop_in.html",
        board=board,
        role=role,
        experts=[(user, availability, load.get(user.id, 0), user.id in same_team)
                 for user, availability in experts],
        swarms=swarms,
        in_room={s.id for s in swarms if any(st.user_id == current_user.id
                                              for st in s.present())},
        now=utcnow(),
    )


@bp.post("/boards/<key>/drop-in/swarms/<int:swarm_id>/join")
@login_required
def join(key: str, swarm_id: int):
    board = get_board(key, current_user)
    swarm = get_swarm(swarm_id, current_user)
    if swarm.board_id != board.id:
        raise NotFound(f"There is no swarm {swarm_id} on {board.key}.")
    join_swarm(swarm, current_user)
    db.session.commit()
    return go_to(swarm_link(swarm))


# --- knowledge -------------------------------------------------------------------------------


@bp.get("/swarms/search")
@login_required
def search():
    """Resolved swarms on the boards I can see, by words and skill."""
    words = request.args.get("q", "").strip()[:200]
    skill = request.args.get("skill", "").strip().lower()[:60]
    asked = bool(words or skill)
    # Nothing asked yet: the latest resolved swarms, as a start.
    found = search_swarms(current_user, words, [skill] if skill else [], limit=20 if asked else 8)
    return render_template("swarms/search.html", words=words, skill=skill, found=found,
                           asked=asked)


# --- the andon webhook -----------------------------------------------------------------------


@bp.post("/hooks/andon/<key>")
def andon_webhook(key: str):
    """Pipelines and monitoring pull the andon cord: a board's webhook token, and a JSON body
    naming a card (or a new card's title) and a reason. Answers JSON, refusals included."""

    def pull(board, token, body):
        swarm = pull_by_webhook(board, token, body)
        return {"card": swarm.card.key, "swarm": swarm.id}

    return incoming_hook(key, HOOK_BODY_MAX, '{"card": "SUP-12", "reason": "..."}', pull)


csrf.exempt(andon_webhook)
