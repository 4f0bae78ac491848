"""The wall: `/wall/<token>` and the fragments it refreshes itself with. No login, read-only;
the token is checked on every request, so a revoked link stops at once."""

from flask import Blueprint, make_response, render_template, request

from app.errors import NotFound
from app.extensions import htmx
from app.standups.view import standup_bar
from app.wall.services import (
    shows_everything,
    wall_board,
    wall_boards,
    wall_for_token,
    wall_strip,
    wall_view,
)
from app.web.live import catch_up_answer

bp = Blueprint("wall", __name__, url_prefix="/wall")


@bp.after_request
def private(response):
    # A wall's answers are for its screen only: never cached, never indexed, no referrer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(NotFound)
def not_found(error: NotFound):
    if htmx or request.accept_mimetypes.best == "application/json":
        return {"error": "not_found", "message": error.message}, 404
    return render_template("wall/missing.html", message=error.message), 404


@bp.get("/<token>")
def show(token: str):
    link = wall_for_token(token)
    boards = wall_boards(link)
    board = boards[0]
    return render_template(
        "wall/wall.html", link=link, token=token, boards=boards,
        view=wall_view(link, board), partial=not shows_everything(link, board),
        strip=wall_strip(board),
    )


@bp.get("/<token>/board/<key>")
def board_fragment(token: str, key: str):
    """The wall's board (a refresh, or the next board of a rotation) with its stand-up strip."""
    link = wall_for_token(token)
    board = wall_board(link, key)
    html = render_template("wall/_board.html", token=token, view=wall_view(link, board),
                           partial=not shows_everything(link, board))
    return html + standup_bar(board, oob=True)  # the stand-up strip goes with the board shown


@bp.get("/<token>/strip/<key>")
def strip_fragment(token: str, key: str):
    board = wall_board(wall_for_token(token), key)
    return render_template("wall/_strip.html", strip=wall_strip(board))


@bp.get("/<token>/live/<key>")
def catch_up(token: str, key: str):
    """The board page's catch-up (JSON, or fragments for an HTMX poll), through the token."""
    board = wall_board(wall_for_token(token), key)
    return make_response(catch_up_answer(board))
