"""Post-incident reviews: drafted from a card (its andon, or a P1 swarm), edited by the board's
members (a stale save is refused with the colleague's text shown), actions added as improvement
cards, published; listed and searched per board. And the improvement register: improvement
cards, their baselines and verdicts. Thin: app.reviews decides."""

import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.boards.access import board_role, get_board
from app.cards.services import assignable_people, get_card
from app.extensions import db
from app.reviews import improvements, services
from app.reviews.models import METRICS, ORIGINS
from app.reviews.services import StaleReview
from app.text import spreadsheet_safe

bp = Blueprint("reviews", __name__)


@bp.app_template_test("action_done")
def action_done(action) -> bool:
    return services.action_done(action)


@bp.app_template_global("minutes_to_clear")
def minutes_to_clear(review):
    return services.minutes_to_clear(review)


@bp.app_template_global("review_of")
def review_of(card):
    """For a page that shows a card: the review of its incident, if one was drafted."""
    return services.review_of_card(card)


@bp.app_template_global("reviewable")
def reviewable(card) -> bool:
    """For a page that shows a card: whether it had an incident to review."""
    return services.can_draft(card)


@bp.app_template_global("improvement_origin")
def improvement_origin(card) -> str:
    """Where an improvement card came from, as far as the board knows (a review's action, a
    retrospective's, or anyone)."""
    return improvements.origin_of(card)


@bp.get("/boards/<key>/reviews")
@login_required
def index(key: str):
    board = get_board(key, current_user)
    search = request.args.get("q", "")
    return render_template("reviews/index.html", board=board, search=search,
                           reviews=services.reviews_of(board, search=search))


CSV_COLUMNS = ("card", "title", "status", "started_at", "cleared_at", "minutes_to_clear",
               "actions", "actions_open", "summary", "impact", "contributing", "learned")


@bp.get("/boards/<key>/reviews.csv")
@login_required
def export(key: str):
    """Every review of the board as a spreadsheet (cells that look like formulas quoted)."""
    board = get_board(key, current_user)
    rows = []
    for review in services.reviews_of(board):
        still_open = [a for a in review.actions if not services.action_done(a)]
        rows.append((review.card.key, review.title, review.status, review.started_at.isoformat(),
                     review.cleared_at.isoformat() if review.cleared_at else None,
                     services.minutes_to_clear(review), len(review.actions), len(still_open),
                     review.summary, review.impact, review.contributing, review.learned))
    return csv_download(f"{board.key}-reviews.csv", CSV_COLUMNS, rows)


def csv_download(filename: str, header, rows) -> Response:
    """A CSV file to save; cells that look like formulas are quoted, None is empty."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else spreadsheet_safe(value) for value in row])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- the improvement register ---------------------------------------------------------------


@bp.get("/boards/<key>/improvements")
@login_required
def register_page(key: str):
    board = get_board(key, current_user)
    return render_template("reviews/improvements.html", board=board,
                           rows=improvements.register_of(board), metrics=METRICS,
                           origins=ORIGINS, settle=improvements.SETTLE,
                           can_edit=board_role(board, current_user) in ("member", "owner"))


IMPROVEMENT_COLUMNS = ("card", "title", "owner", "done_at", "review", "origin", "metric",
                       "blocked_reason", "baseline", "after", "verdict", "checked_at")


@bp.get("/boards/<key>/improvements.csv")
@login_required
def export_register(key: str):
    """The improvement register as a spreadsheet."""
    board = get_board(key, current_user)
    rows = [[row[name].isoformat() if hasattr(row[name], "isoformat") else row[name]
             for name in IMPROVEMENT_COLUMNS] for row in improvements.register_rows(board)]
    return csv_download(f"{board.key}-improvements.csv", IMPROVEMENT_COLUMNS, rows)


@bp.post("/cards/<card_key>/improvement")
@login_required
def register_improvement(card_key: str):
    card = get_card(card_key, current_user)
    form = request.form
    improvements.register(card, current_user, metric=form.get("metric", ""),
                          origin=form.get("origin") or None,
                          blocked_reason=form.get("blocked_reason") or None)
    db.session.commit()
    flash(f"{card.key} is in the register with its baseline.", "success")
    return redirect(url_for("reviews.register_page", key=card.board.key) + f"#{card.key}")


# --- post-incident reviews ------------------------------------------------------------------


@bp.post("/cards/<card_key>/review")
@login_required
def draft(card_key: str):
    card = get_card(card_key, current_user)
    review = services.draft_review(card, current_user)
    db.session.commit()
    return redirect(url_for("reviews.show", review_id=review.id))


def render_review(review, *, status: int = 200):
    role_can_edit = services.can_edit(review, current_user)
    return render_template(
        "reviews/review.html", review=review, impact=services.impact_of(review),
        timeline=services.timeline(review), can_edit=role_can_edit,
        people=assignable_people(review.board) if role_can_edit else []), status


@bp.get("/reviews/<int:review_id>")
@login_required
def show(review_id: int):
    return render_review(services.get_review(review_id, current_user))


@bp.post("/reviews/<int:review_id>")
@login_required
def save(review_id: int):
    review = services.get_review(review_id, current_user, "member")
    form = request.form
    try:
        services.update_review(review, current_user, version=form.get("version", ""),
                               **{name: form.get(name, "") for name in services.FIELDS})
    except StaleReview as stale:
        db.session.rollback()
        flash(stale.message, "error")
        return render_review(services.get_review(review_id, current_user), status=409)
    db.session.commit()
    flash("Review saved.", "success")
    return redirect(url_for("reviews.show", review_id=review.id))


@bp.post("/reviews/<int:review_id>/actions")
@login_required
def add_action(review_id: int):
    review = services.get_review(review_id, current_user, "member")
    card = services.add_action(review, current_user, title=request.form.get("title", ""),
                               owner=request.form.get("owner") or None)
    db.session.commit()
    flash(f"{card.key} is on the board: {card.title}", "success")
    return redirect(url_for("reviews.show", review_id=review.id) + "#actions")


@bp.post("/reviews/<int:review_id>/publish")
@login_required
def publish(review_id: int):
    review = services.get_review(review_id, current_user, "member")
    services.publish_review(review, current_user)
    db.session.commit()
    flash("Review published.", "success")
    return redirect(url_for("reviews.show", review_id=review.id))
