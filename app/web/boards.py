"""Board pages: create, show (with filters), quick add, and settings. Thin: services decide."""

from urllib.parse import parse_qs, urlparse

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from app.accounts.admin import teams
from app.alerts.models import ANDON_POLICIES
from app.alerts.services import intake_of, recent_alerts
from app.board_view import CardFilter, board_view
from app.boards import services
from app.boards.access import get_board, require_role
from app.boards.invites import open_invites
from app.boards.stream_templates import TEMPLATES
from app.cards.services import archived_cards, assignable_people, create_card
from app.errors import Invalid
from app.extensions import db, htmx
from app.swarms import andon
from app.swarms.andon import hooks_of
from app.swarms.banner import andon_banner
from app.swarms.dispatch import dispatch_status
from app.wall.services import rotation_candidates, wall_links_of
from app.web import go_to
from app.webhooks.chat import FORMATS
from app.webhooks.services import EVENT_GROUPS, webhooks_of

bp = Blueprint("boards", __name__, url_prefix="/boards")


def current_filter() -> CardFilter:
    """Filters come from the query string, or for HTMX actions from the page's own URL."""
    if request.method == "GET" or not htmx.current_url:
        return CardFilter.from_args(request.args)
    query = parse_qs(urlparse(htmx.current_url).query)
    return CardFilter.from_args(MultiDict({k: v[0] for k, v in query.items()}))


def render_board(board, *, status: int = 200, message: str | None = None, level="error",
                 extra: str = ""):
    """The board fragment (one truth for first load, HTMX answers and, later, pushes)."""
    role = require_role(board, current_user)
    view = board_view(board, current_filter(), current_user.username)
    # The andon banner sits above the board: every board answer brings it up to date too.
    html = render_template("boards/_board.html", view=view, role=role)
    html += str(andon_banner(board, oob=True))
    if message:
        html += render_template("_flash_oob.html", message=message, level=level)
    return html + extra, status


@bp.get("/new")
@login_required
def new():
    return render_template("boards/new.html", templates=TEMPLATES)


@bp.post("")
@login_required
def create():
    board = services.create_board(
        current_user,
        name=request.form.get("name", ""),
        key=request.form.get("key", ""),
        template=request.form.get("template") or None,
    )
    db.session.commit()
    return go_to(url_for("boards.show", key=board.key))


@bp.get("/<key>")
@login_required
def show(key: str):
    board = get_board(key, current_user)
    if htmx and htmx.target == "board":
        return render_board(board)
    role = require_role(board, current_user)
    view = board_view(board, current_filter(), current_user.username)
    return render_template(
        "boards/board.html",
        view=view,
        role=role,
        people=assignable_people(board),
    )


@bp.post("/<key>/cards")
@login_required
def quick_add(key: str):
    board = get_board(key, current_user, "member")
    form = request.form
    column = services.find_column(board, form["column"], Invalid) if form.get("column") else None
    lane = services.find_lane(board, form["lane"], Invalid) if form.get("lane") else None
    card = create_card(
        board, current_user, title=form.get("title", ""), column=column, lane=lane,
        override_reason=form.get("override_reason") or None,
    )
    db.session.commit()
    return render_board(board, message=f"Created {card.key}.", level="success")


# --- settings ------------------------------------------------------------------------------


def render_settings(board, message: str | None = None, new_hook: tuple | None = None,
                    new_wall: tuple | None = None, new_webhook=None, level: str = "success",
                    new_invite: tuple | None = None):
    """The settings page (or its HTMX fragment); `new_hook` / `new_wall` is (hook or link,
    token), `new_webhook` the webhook, right after one is made: the only time its token or
    secret is shown."""
    context = dict(
        board=board,
        columns=services.active_columns(board),
        lanes=services.board_lanes(board),
        members=services.members_of(board),
        commitment=services.commitment_point(board),
        teams=teams(),
        hooks=hooks_of(board),
        new_hook=new_hook,
        dispatch=dispatch_status(board),
        wall_links=wall_links_of(board),
        rotation_boards=rotation_candidates(board, current_user),
        new_wall=new_wall,
        webhooks=webhooks_of(board),
        event_groups=EVENT_GROUPS,
        webhook_formats=FORMATS,
        new_webhook=new_webhook,
        alert_intake=intake_of(board),
        alert_andon_policies=ANDON_POLICIES,
        recent_alerts=recent_alerts(board),
        invites=open_invites(board),
        new_invite=new_invite,
    )
    if htmx:
        html = render_template("boards/_settings.html", **context)
        if message:
            html += render_template("_flash_oob.html", message=message, level=level)
        return html
    return render_template("boards/settings.html", **context)


def settings_done(board, message: str, new_hook: tuple | None = None,
                  new_wall: tuple | None = None, new_webhook=None, level: str = "success",
                  new_invite: tuple | None = None):
    db.session.commit()
    if htmx or new_hook or new_wall or new_webhook or new_invite:  # shown once, now
        return render_settings(board, message, new_hook, new_wall, new_webhook, level,
                               new_invite)
    if level != "success":
        flash(message, level)
    return redirect(url_for("boards.settings", key=board.key))


@bp.get("/<key>/settings")
@login_required
def settings(key: str):
    board = get_board(key, current_user, "owner")
    return render_settings(board)


@bp.post("/<key>/settings")
@login_required
def update_board(key: str):
    board = get_board(key, current_user, "owner")
    services.update_board(
        board, current_user, name=request.form.get("name"),
        description=request.form.get("description"), timezone=request.form.get("timezone"),
        dispatch_times=request.form.get("dispatch_times"),
    )
    return settings_done(board, "Board saved.")


@bp.post("/<key>/hooks")
@login_required
def create_hook(key: str):
    board = get_board(key, current_user, "owner")
    hook, token = andon.create_hook(board, current_user, request.form.get("name", ""))
    return settings_done(board, f"Webhook {hook.name!r} created.", new_hook=(hook, token))


@bp.post("/<key>/hooks/<int:hook_id>/revoke")
@login_required
def revoke_hook(key: str, hook_id: int):
    board = get_board(key, current_user, "owner")
    andon.revoke_hook(board, current_user, hook_id)
    return settings_done(board, "Webhook revoked; calls with its token are refused from now.")


COLUMN_FIELDS = ("name", "kind", "wip_limit", "wip_policy", "sort_policy", "value_activity",
                 "policy_text", "done_checklist")
LANE_FIELDS = ("name", "class_of_service", "wip_limit", "wip_policy")


def _fields(names) -> dict:
    return {name: request.form[name] for name in names if name in request.form}


@bp.post("/<key>/columns")
@login_required
def add_column(key: str):
    board = get_board(key, current_user, "owner")
    column = services.add_column(board, current_user, **_fields(COLUMN_FIELDS))
    return settings_done(board, f"Column {column.name!r} added.")


@bp.post("/<key>/columns/<int:column_id>")
@login_required
def update_column(key: str, column_id: int):
    board = get_board(key, current_user, "owner")
    column = services.find_column(board, column_id)
    services.update_column(board, current_user, column, **_fields(COLUMN_FIELDS))
    return settings_done(board, f"Column {column.name!r} saved.")


@bp.post("/<key>/columns/<int:column_id>/move")
@login_required
def move_column(key: str, column_id: int):
    board = get_board(key, current_user, "owner")
    column = services.find_column(board, column_id)
    step = -1 if request.form.get("direction") == "left" else 1
    services.move_column(board, current_user, column, column.position + step)
    return settings_done(board, f"Column {column.name!r} moved.")


@bp.post("/<key>/columns/<int:column_id>/delete")
@login_required
def delete_column(key: str, column_id: int):
    board = get_board(key, current_user, "owner")
    column = services.find_column(board, column_id)
    services.remove_column(board, current_user, column)
    return settings_done(board, f"Column {column.name!r} deleted.")


@bp.post("/<key>/lanes")
@login_required
def add_lane(key: str):
    board = get_board(key, current_user, "owner")
    lane = services.add_lane(board, current_user, **_fields(LANE_FIELDS))
    return settings_done(board, f"Lane {lane.name!r} added.")


@bp.post("/<key>/lanes/<int:lane_id>")
@login_required
def update_lane(key: str, lane_id: int):
    board = get_board(key, current_user, "owner")
    lane = services.find_lane(board, lane_id)
    services.update_lane(board, current_user, lane, **_fields(LANE_FIELDS))
    return settings_done(board, f"Lane {lane.name!r} saved.")


@bp.post("/<key>/lanes/<int:lane_id>/move")
@login_required
def move_lane(key: str, lane_id: int):
    board = get_board(key, current_user, "owner")
    lane = services.find_lane(board, lane_id)
    step = -1 if request.form.get("direction") == "up" else 1
    services.move_lane(board, current_user, lane, lane.position + step)
    return settings_done(board, f"Lane {lane.name!r} moved.")


@bp.post("/<key>/lanes/<int:lane_id>/delete")
@login_required
def delete_lane(key: str, lane_id: int):
    board = get_board(key, current_user, "owner")
    lane = services.find_lane(board, lane_id)
    name = lane.name
    services.remove_lane(board, current_user, lane)
    return settings_done(board, f"Lane {name!r} deleted.")


@bp.post("/<key>/members")
@login_required
def set_member(key: str):
    board = get_board(key, current_user, "owner")
    member = services.set_member(
        board, current_user, request.form.get("username", ""), request.form.get("role", "member")
    )
    return settings_done(board, f"{member.user.username} is now a {member.role}.")


@bp.post("/<key>/teams")
@login_required
def add_team(key: str):
    board = get_board(key, current_user, "owner")
    team = request.form.get("team", "")
    added = services.add_team(board, current_user, team, request.form.get("role", "member"))
    who = ", ".join(added) if added else "nobody new (all were members already)"
    return settings_done(board, f"Team {team}: added {who}.")


@bp.get("/<key>/archived")
@login_required
def archived(key: str):
    """Archived cards, newest first: out of the flow, never out of the history."""
    board = get_board(key, current_user)
    return render_template(
        "boards/archived.html", board=board, cards=archived_cards(board),
        role=require_role(board, current_user),
    )


@bp.post("/<key>/members/<username>/delete")
@login_required
def remove_member(key: str, username: str):
    board = get_board(key, current_user, "owner")
    services.remove_member(board, current_user, username)
    return settings_done(board, f"{username} removed from {board.key}.")
