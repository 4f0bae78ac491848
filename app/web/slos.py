"""Service level objectives and error budgets: the board's page of them (budget left, its
course over the window, what spent it, feature work started anyway), the strip on the board,
owners defining objectives, and a CSV of the outages. Thin: app.slos decides."""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from app.boards.access import board_role, get_board
from app.boards.services import active_columns, board_lanes
from app.cards.models import Card
from app.clock import utcnow
from app.extensions import db
from app.metrics.charts import Frame, Linear, polyline
from app.slos import services
from app.slos.budget import budget_history
from app.slos.models import ALERT_POLICIES, INCIDENT_PRIORITIES
from app.slos.strip import budget_strip
from app.web.reviews import csv_download

bp = Blueprint("slos", __name__)
CHART = Frame(width=640, height=200, left=48, right=16, top=14, bottom=30)
OUTAGES_SHOWN = 12
FIELDS = ("name", "target", "window_days", "threshold", "count_andon", "incident_priority",
          "alerts", "lane", "restored_column")


@bp.app_template_global("slo_strip")
def slo_strip_global(board) -> Markup:
    return budget_strip(board)


@bp.get("/boards/<key>/slos/strip")
@login_required
def strip(key: str):
    return budget_strip(get_board(key, current_user))


def chart(budget) -> dict:
    """Budget left at the end of each day of the window, as SVG coordinates (0–100%, lower
    clipped at 0), with the threshold's line."""
    series = budget_history(budget.objective, budget.now)
    x = Linear(0, len(series) - 1, CHART.x0, CHART.x1)
    y = Linear(0, 100, CHART.y0, CHART.y1)
    points = [(x(i), y(min(max(left, 0), 100))) for i, (_, left) in enumerate(series)]
    return {"frame": CHART, "line": polyline(points),
            "threshold": y(budget.objective.threshold),
            "ticks": [{"y": y(v), "label": f"{v}%"} for v in (0, 50, 100)],
            "first": series[0][0], "last": series[-1][0]}


@bp.get("/boards/<key>/slos")
@login_required
def index(key: str):
    board = get_board(key, current_user)
    now = utcnow()
    budgets = services.budgets_of(board, now)
    ids = {o.card_id for b in budgets for o in b.outages}
    cards = {c.id: c for c in db.session.scalars(select(Card).where(Card.id.in_(ids)))}
    longest = max((b.objective.window_days for b in budgets), default=28)
    return render_template(
        "slos/index.html", board=board, budgets=budgets, charts=[chart(b) for b in budgets],
        cards=cards, now=now, shown=OUTAGES_SHOWN,
        overrides=services.overrides_of(board, now - timedelta(days=longest)),
        is_owner=board_role(board, current_user) == "owner", lanes=board_lanes(board),
        columns=[c for c in active_columns(board) if c.kind != "backlog"],
        alert_policies=ALERT_POLICIES, incident_priorities=INCIDENT_PRIORITIES)


def _fields() -> dict:
    form = request.form
    return {name: form.get(name) for name in FIELDS if name in form} | {
        "count_andon": form.get("count_andon", "")}


@bp.post("/boards/<key>/slos")
@login_required
def define(key: str):
    board = get_board(key, current_user)
    objective = services.define_objective(board, current_user, **_fields())
    db.session.commit()
    flash(f"Objective {objective.name!r} defined.", "success")
    return redirect(url_for("slos.index", key=board.key) + f"#slo-{objective.id}")


@bp.post("/boards/<key>/slos/<int:objective_id>")
@login_required
def update(key: str, objective_id: int):
    board = get_board(key, current_user)
    objective = services.update_objective(services.get_objective(board, objective_id),
                                          current_user, **_fields())
    db.session.commit()
    flash(f"Objective {objective.name!r} saved.", "success")
    return redirect(url_for("slos.index", key=board.key) + f"#slo-{objective.id}")


@bp.post("/boards/<key>/slos/<int:objective_id>/remove")
@login_required
def remove(key: str, objective_id: int):
    board = get_board(key, current_user)
    objective = services.get_objective(board, objective_id)
    name = objective.name
    services.remove_objective(objective, current_user)
    db.session.commit()
    flash(f"Objective {name!r} removed; its history stays in the event log.", "success")
    return redirect(url_for("slos.index", key=board.key))


CSV_COLUMNS = ("objective", "source", "card", "title", "started_at", "ended_at",
               "minutes_in_window")


@bp.get("/boards/<key>/slos.csv")
@login_required
def export(key: str):
    """Every outage that spent a budget in its window, objective by objective."""
    board = get_board(key, current_user)
    rows = []
    for budget in services.budgets_of(board):
        for outage in budget.outages:
            card = db.session.get(Card, outage.card_id)
            end = outage.end or budget.now
            rows.append((budget.objective.name, outage.source, card.key, card.title,
                         outage.start.isoformat(), outage.end.isoformat() if outage.end else None,
                         round((end - outage.start).total_seconds() / 60, 1)))
    return csv_download(f"{board.key}-error-budgets.csv", CSV_COLUMNS, rows)
