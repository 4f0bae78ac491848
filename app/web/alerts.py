"""Alert intake: `POST /hooks/alerts/<KEY>` takes Alertmanager's and Grafana's webhooks with a
board's incoming webhook token; Board settings → Alert intake says what the board does with
them. Thin over app.alerts."""

from flask import Blueprint, request
from flask_login import current_user, login_required

from app.alerts import services
from app.boards.access import get_board
from app.extensions import csrf
from app.web import incoming_hook
from app.web.boards import settings_done

bp = Blueprint("alerts", __name__)

# Alertmanager sends a whole group in one call (max_alerts, 0 = every one of them).
ALERT_BODY_MAX = 1024 * 1024


@bp.post("/hooks/alerts/<key>")
def receive(key: str):
    """Alertmanager's or Grafana's webhook body; answers what became of each alert."""
    return incoming_hook(key, ALERT_BODY_MAX, "Alertmanager's or Grafana's webhook body",
                         services.receive_alerts)


csrf.exempt(receive)


@bp.post("/boards/<key>/alert-intake")
@login_required
def update(key: str):
    board = get_board(key, current_user, "owner")
    services.update_intake(board, current_user, andon=request.form.get("andon"),
                           resolved_column=request.form.get("resolved_column"))
    return settings_done(board, "Alert intake saved.")
