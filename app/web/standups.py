"""Stand-up pages and actions: thin routes over app.standups.services.

Actions answer HTMX with the stand-up strip (the facilitator's own view is updated by the
answer; every other view, the wall included, by the board push of the `standup.*` event).
"""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from app.boards.access import get_board, require_role
from app.extensions import db, htmx
from app.standups import services
from app.standups.view import standup_bar
from app.web import go_to

bp = Blueprint("standups", __name__)


@bp.app_template_global("standup_strip")
def standup_strip(board) -> Markup:
    """The stand-up strip for a page that shows the board (the board page, the wall)."""
    return Markup(standup_bar(board))


@bp.app_template_global("standup_running")
def standup_running(board) -> bool:
    return services.running_standup(board) is not None


def _answer(standup):
    """The strip for HTMX (drawn before the commit, which would expire all it shows), else
    back to the board."""
    strip = standup_bar(standup.board, standup=standup) if htmx else None
    key = standup.board.key
    db.session.commit()
    return strip if strip is not None else redirect(url_for("boards.show", key=key))


@bp.post("/boards/<key>/standup")
@login_required
def start(key: str):
    board = get_board(key, current_user, "member")
    standup = services.start_standup(board, current_user, remote=bool(request.form.get("remote")))
    return _answer(standup)


@bp.post("/standups/<int:standup_id>/join")
@login_required
def join(standup_id: int):
    standup = services.get_standup(standup_id, current_user)
    services.join_standup(standup, current_user, remote=bool(request.form.get("remote")))
    return _answer(standup)


@bp.post("/standups/<int:standup_id>/next", endpoint="next")
@login_required
def next_card(standup_id: int):
    standup = services.get_standup(standup_id, current_user)
    return _answer(services.step(standup, current_user, 1))


@bp.post("/standups/<int:standup_id>/previous")
@login_required
def previous(standup_id: int):
    standup = services.get_standup(standup_id, current_user)
    return _answer(services.step(standup, current_user, -1))


@bp.post("/standups/<int:standup_id>/focus")
@login_required
def focus(standup_id: int):
    standup = services.get_standup(standup_id, current_user)
    return _answer(services.focus_card(standup, current_user, request.form.get("card", "")))


@bp.post("/standups/<int:standup_id>/handover")
@login_required
def handover(standup_id: int):
    standup = services.get_standup(standup_id, current_user)
    services.hand_over(standup, current_user, request.form.get("username", ""))
    return _answer(standup)


@bp.post("/standups/<int:standup_id>/end")
@login_required
def end(standup_id: int):
    standup = services.get_standup(standup_id, current_user)
    services.end_standup(standup, current_user)
    db.session.commit()
    # The facilitator goes on to the summary; every other view loses the strip.
    return go_to(url_for("standups.show", standup_id=standup.id))


@bp.post("/standups/<int:standup_id>/notes")
@login_required
def note(standup_id: int):
    standup = services.get_standup(standup_id, current_user)
    services.add_note(standup, current_user, request.form.get("body", ""),
                      kind=request.form.get("kind", "note"),
                      card_key=request.form.get("card") or None)
    return _answer(standup)


@bp.post("/standups/<int:standup_id>/impediment")
@login_required
def impediment(standup_id: int):
    standup = services.get_standup(standup_id, current_user)
    require_role(standup.board, current_user, "member")
    services.raise_impediment(standup, current_user, request.form.get("title", ""),
                              improvement=request.form.get("improvement") == "1")
    return _answer(standup)


@bp.get("/boards/<key>/standups")
@login_required
def history(key: str):
    board = get_board(key, current_user)
    return render_template("standups/history.html", board=board,
                           standups=services.past_standups(board),
                           running=services.running_standup(board))


@bp.get("/standups/<int:standup_id>")
@login_required
def show(standup_id: int):
    standup = services.get_standup(standup_id, current_user)
    summary = standup.summary or services.summarise(standup)
    return render_template("standups/summary.html", board=standup.board, standup=standup,
                           summary=summary)


@bp.route("/boards/<key>/standup/update", methods=["GET", "POST"])
@login_required
def update(key: str):
    """My yesterday / today / blockers for today's stand-up (the async stand-up)."""
    board = get_board(key, current_user)
    saved = False
    if request.method == "POST":
        form = request.form
        services.post_update(board, current_user, yesterday=form.get("yesterday", ""),
                             today=form.get("today", ""), blockers=form.get("blockers", ""))
        db.session.commit()
        saved = True
    updates = services.updates_for(board)
    return render_template("standups/update.html", board=board, mine=updates.get(current_user.id),
                           updates=sorted(updates.values(), key=lambda u: u.user.display_name),
                           saved=saved, role=require_role(board, current_user))
