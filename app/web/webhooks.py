"""Board settings → Outgoing webhooks: add, change, delete, resume, send a test. Thin over
app.webhooks; each answers with the settings page as the server now has it."""

from flask import Blueprint, request
from flask_login import current_user, login_required

from app.boards.access import get_board
from app.web.boards import settings_done
from app.webhooks import services
from app.webhooks.delivery import send_test as send_test_ping

bp = Blueprint("webhooks", __name__, url_prefix="/boards")


@bp.post("/<key>/webhooks")
@login_required
def create(key: str):
    board = get_board(key, current_user, "owner")
    webhook = services.create_webhook(board, current_user, name=request.form.get("name"),
                                      url=request.form.get("url"),
                                      types=request.form.getlist("types"),
                                      format=request.form.get("format") or "json")
    return settings_done(board, f"Webhook {webhook.name!r} added; it gets the events from now on.",
                         new_webhook=webhook)


@bp.post("/<key>/webhooks/<int:webhook_id>")
@login_required
def update(key: str, webhook_id: int):
    board = get_board(key, current_user, "owner")
    webhook = services.update_webhook(board, current_user, webhook_id,
                                      name=request.form.get("name"), url=request.form.get("url"),
                                      types=request.form.getlist("types"),
                                      format=request.form.get("format"))
    return settings_done(board, f"Webhook {webhook.name!r} saved.")


@bp.post("/<key>/webhooks/<int:webhook_id>/resume")
@login_required
def resume(key: str, webhook_id: int):
    board = get_board(key, current_user, "owner")
    webhook = services.resume_webhook(board, current_user, webhook_id)
    return settings_done(board, f"Webhook {webhook.name!r} resumed from where it stopped.")


@bp.post("/<key>/webhooks/<int:webhook_id>/delete")
@login_required
def delete(key: str, webhook_id: int):
    board = get_board(key, current_user, "owner")
    services.delete_webhook(board, current_user, webhook_id)
    return settings_done(board, "Webhook deleted; its receiver gets nothing more.")


@bp.post("/<key>/webhooks/<int:webhook_id>/test")
@login_required
def send_test(key: str, webhook_id: int):
    """POST a `ping` now and say how the receiver answered (logged with the deliveries)."""
    board = get_board(key, current_user, "owner")
    webhook = services.webhook_of(board, webhook_id)
    line = send_test_ping(webhook)
    if line.ok:
        return settings_done(board, f"Test sent to {webhook.name!r}: HTTP {line.status} in "
                                    f"{line.ms:.0f} ms.")
    return settings_done(board, f"Test to {webhook.name!r} failed: {line.error}", level="error")
