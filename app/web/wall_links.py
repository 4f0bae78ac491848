"""Board owners' side of wall links, on the board's settings page: create (the link is shown
once), change the options, revoke. Thin: app.wall.services decides."""

from flask import Blueprint, request
from flask_login import current_user, login_required

from app.boards.access import get_board
from app.wall import services
from app.web.boards import settings_done

bp = Blueprint("wall_links", __name__, url_prefix="/boards")


def _options() -> dict:
    """The form's options; an unticked set of lanes or columns is an empty list (refused)."""
    form = request.form
    return dict(
        theme=form.get("theme") or "dark",
        lane_ids=form.getlist("lanes"),
        column_ids=form.getlist("columns"),
        rotate_board_ids=form.getlist("rotate"),
        rotate_seconds=form.get("rotate_seconds") or None,
    )


@bp.post("/<key>/walls")
@login_required
def create(key: str):
    board = get_board(key, current_user, "owner")
    link, token = services.create_wall_link(board, current_user, request.form.get("name", ""),
                                            **_options())
    return settings_done(board, f"Wall link {link.name!r} created.", new_wall=(link, token))


@bp.post("/<key>/walls/<int:link_id>")
@login_required
def update(key: str, link_id: int):
    board = get_board(key, current_user, "owner")
    link = services.update_wall_link(board, current_user, link_id, request.form.get("name", ""),
                                     **_options())
    return settings_done(board, f"Wall link {link.name!r} saved; open walls reload with it.")


@bp.post("/<key>/walls/<int:link_id>/revoke")
@login_required
def revoke(key: str, link_id: int):
    board = get_board(key, current_user, "owner")
    link = services.revoke_wall_link(board, current_user, link_id)
    return settings_done(board, f"Wall link {link.name!r} revoked; its walls show that at once.")
