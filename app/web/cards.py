"""Card pages and actions. Each action calls one service, commits, and answers with the
re-rendered card detail (or board), so the page shows the server's truth."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.boards.access import require_role
from app.boards.services import active_columns, board_lanes, find_column, find_lane
from app.cards import services
from app.cards.moves import move_card
from app.errors import DomainError, Invalid, StaleVersion, SwarmStillOpen, WipLimitReached
from app.events.services import card_history
from app.extensions import db, htmx
from app.reviews.services import can_draft, review_of_card
from app.web.boards import render_board

bp = Blueprint("cards", __name__, url_prefix="/cards")


def detail_context(card) -> dict:
    """What the card detail (page, dialog or HTMX answer) shows."""
    role = require_role(card.board, current_user)
    return dict(
        card=card,
        role=role,
        can_edit=role in ("member", "owner"),
        links=services.links_of(card),
        history=card_history(card),
        people=services.assignable_people(card.board),
        review=review_of_card(card),
        can_review=role in ("member", "owner") and can_draft(card),
    )


def render_detail(card, *, status: int = 200, message: str | None = None, level="success",
                  extra: str = ""):
    context = detail_context(card)
    if not htmx:
        return render_template("cards/detail.html", **context), status
    html = render_template("cards/_detail.html", **context) + extra
    if message:
        html += render_template("_flash_oob.html", message=message, level=level)
    headers = {"HX-Trigger": "boardChanged"} if request.method == "POST" else {}
    return html, status, headers


def card_action(card, change, message: str):
    """Run one change on a card and answer with its detail; a stale edit shows the current
    card (409) instead of overwriting a colleague's change."""
    try:
        change()
        db.session.commit()
    except StaleVersion as stale:
        db.session.rollback()
        return render_detail(card, status=409, message=stale.message, level="error")
    if not htmx:
        flash(message, "success")
        return redirect(url_for("cards.show", card_key=card.key))
    return render_detail(card, message=message)


@bp.get("/<card_key>")
@login_required
def show(card_key: str):
    card = services.get_card(card_key, current_user)
    if htmx and htmx.target == "modal":
        return render_template("cards/_detail_dialog.html", **detail_context(card))
    return render_detail(card)


@bp.post("/<card_key>/edit")
@login_required
def edit(card_key: str):
    card = services.get_card(card_key, current_user, "member")
    values = {k: request.form[k] for k in services.EDITABLE if k in request.form}
    return card_action(
        card,
        lambda: services.update_card(card, current_user, version=request.form.get("version"),
                                     **values),
        f"{card.key} saved.",
    )


@bp.post("/<card_key>/block")
@login_required
def block(card_key: str):
    card = services.get_card(card_key, current_user, "member")
    return card_action(
        card,
        lambda: services.block_card(card, current_user, request.form.get("reason", ""),
                                    version=request.form.get("version")),
        f"{card.key} is blocked.",
    )


@bp.post("/<card_key>/unblock")
@login_required
def unblock(card_key: str):
    card = services.get_card(card_key, current_user, "member")
    return card_action(
        card,
        lambda: services.unblock_card(card, current_user, version=request.form.get("version")),
        f"{card.key} is unblocked.",
    )


@bp.post("/<card_key>/archive")
@login_required
def archive(card_key: str):
    card = services.get_card(card_key, current_user, "member")
    form = request.form
    try:
        return card_action(
            card,
            lambda: services.archive_card(card, current_user, version=form.get("version"),
                                          swarm=form.get("swarm") or None),
            f"{card.key} archived; its history stays in the metrics.",
        )
    except SwarmStillOpen as refused:
        db.session.rollback()
        if not htmx:
            raise
        dialog = render_template(
            "cards/_swarm_dialog.html", card=card, message=refused.message,
            action=url_for("cards.archive", card_key=card.key), target="#card-detail",
            swap="outerHTML",
            fields={"version": form.get("version", "")},
        )
        return render_detail(card, status=refused.status, message=refused.message,
                             extra=dialog)


@bp.post("/<card_key>/restore")
@login_required
def restore(card_key: str):
    card = services.get_card(card_key, current_user, "member")
    return card_action(
        card,
        lambda: services.restore_card(card, current_user,
                                      override_reason=request.form.get("override_reason")),
        f"{card.key} is back on the board.",
    )


@bp.post("/<card_key>/checklist")
@login_required
def add_checklist_item(card_key: str):
    card = services.get_card(card_key, current_user, "member")
    return card_action(
        card,
        lambda: services.add_checklist_item(card, current_user, request.form.get("text", "")),
        "Checklist item added.",
    )


@bp.post("/<card_key>/checklist/<int:item_id>")
@login_required
def set_checklist_item(card_key: str, item_id: int):
    card = services.get_card(card_key, current_user, "member")
    done = request.form.get("done") in ("1", "true", "on")
    return card_action(
        card,
        lambda: services.set_checklist_item(card, current_user, item_id, done),
        "Checklist updated.",
    )


@bp.post("/<card_key>/checklist/<int:item_id>/delete")
@login_required
def remove_checklist_item(card_key: str, item_id: int):
    card = services.get_card(card_key, current_user, "member")
    return card_action(
        card,
        lambda: services.remove_checklist_item(card, current_user, item_id),
        "Checklist item removed.",
    )


@bp.post("/<card_key>/links")
@login_required
def link(card_key: str):
    card = services.get_card(card_key, current_user, "member")
    return card_action(
        card,
        lambda: services.link_cards(card, current_user, request.form.get("kind", ""),
                                    request.form.get("other", "")),
        "Link added.",
    )


@bp.post("/<card_key>/links/<int:link_id>/delete")
@login_required
def unlink(card_key: str, link_id: int):
    card = services.get_card(card_key, current_user, "member")
    return card_action(
        card, lambda: services.unlink_cards(card, current_user, link_id), "Link removed."
    )


@bp.post("/<card_key>/comments")
@login_required
def comment(card_key: str):
    card = services.get_card(card_key, current_user, "member")
    return card_action(
        card,
        lambda: services.add_comment(card, current_user, request.form.get("body", "")),
        "Comment added.",
    )


# --- moves ---------------------------------------------------------------------------------


@bp.get("/<card_key>/move")
@login_required
def move_dialog(card_key: str):
    """The "Move to…" dialog: the accessible path for every move a drag can make."""
    card = services.get_card(card_key, current_user, "member")
    return render_template(
        "cards/_move_dialog.html", card=card, columns=active_columns(card.board),
        lanes=board_lanes(card.board),
    )


@bp.post("/<card_key>/move")
@login_required
def move(card_key: str):
    card = services.get_card(card_key, current_user, "member")
    board, form = card.board, request.form
    try:
        column = find_column(board, form.get("column", ""), Invalid)
        lane = find_lane(board, form["lane"], Invalid) if form.get("lane") else None
        move_card(
            card, current_user, column=column, lane=lane, position=form.get("position"),
            version=form.get("version"), override_reason=form.get("override_reason") or None,
            swarm=form.get("swarm") or None,
        )
        db.session.commit()
    except DomainError as refused:
        # Answer with the board as stored, so a refused drag snaps back, plus the reason.
        db.session.rollback()
        if not htmx:
            flash(refused.message, "error")
            return redirect(url_for("boards.show", key=board.key))
        extra = ""
        if isinstance(refused, WipLimitReached) and refused.needs_reason:
            extra = render_template(
                "cards/_override_dialog.html", card=card, form=form, message=refused.message,
                code=refused.code,
            )
        elif isinstance(refused, SwarmStillOpen):
            fields = ("column", "lane", "position", "version", "override_reason")
            extra = render_template(
                "cards/_swarm_dialog.html", card=card, message=refused.message,
                action=url_for("cards.move", card_key=card.key), target="#board",
                swap="outerHTML", fields={name: form.get(name, "") for name in fields},
            )
        return render_board(board, status=refused.status, message=refused.message, extra=extra)
    if not htmx:
        return redirect(url_for("boards.show", key=board.key))
    return render_board(board)
