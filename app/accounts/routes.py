"""Log in and out, the personal home page ("My work") and the profile with API tokens."""

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.services import authenticate, create_token, revoke_token, tokens_of
from app.boards.access import boards_for
from app.cards.models import Card
from app.cards.wip import board_counts
from app.clock import utcnow
from app.extensions import db
from app.metrics.flow import card_age_days

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    if target and not urlparse(target).netloc and target.startswith("/"):
        return target
    return url_for("accounts.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            flash("That username and password do not match.", "error")
            return render_template("accounts/login.html"), 401
        login_user(user, remember=bool(request.form.get("remember")))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html")


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("accounts.login"))


@bp.get("/")
@login_required
def home():
    """My work: the boards I belong to and the cards I own across them."""
    boards = boards_for(current_user)
    board_ids = [board.id for board, _role in boards]
    in_progress = board_counts(board_ids)
    mine = db.session.scalars(
        select(Card)
        .where(
            Card.owner_id == current_user.id,
            Card.archived_at.is_(None),
            Card.finished_at.is_(None),
            Card.board_id.in_(board_ids),
        )
        .options(selectinload(Card.column), selectinload(Card.board))
        .order_by(Card.blocked.desc(), Card.started_at)
    ).all()
    now = utcnow()
    my_cards = [(card, card_age_days(card, now)) for card in mine]
    return render_template(
        "accounts/home.html", boards=boards, in_progress=in_progress, my_cards=my_cards
    )


@bp.get("/profile")
@login_required
def profile():
    return render_template("accounts/profile.html", tokens=tokens_of(current_user), new_token=None)


@bp.post("/profile/tokens")
@login_required
def new_token():
    token = create_token(current_user, request.form.get("name") or "API token")
    db.session.commit()
    return render_template("accounts/profile.html", tokens=tokens_of(current_user),
                           new_token=token)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    revoke_token(current_user, token_id)
    db.session.commit()
    flash("Token revoked.", "success")
    return redirect(url_for("accounts.profile"))
