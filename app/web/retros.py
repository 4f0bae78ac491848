"""Retrospectives: a board's list (with its cadence and the next one due), and the live session
page. Every change answers an HTMX request with the session as this person sees it, and a plain
form with a redirect to the page. Thin: app.retros decides."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.boards.access import board_role, get_board
from app.cards.services import assignable_people
from app.extensions import db, htmx
from app.retros import cadence, figures, services
from app.retros.models import KINDS, PHASES
from app.web.reviews import csv_download

bp = Blueprint("retros", __name__)


@bp.get("/boards/<key>/retrospectives")
@login_required
def index(key: str):
    board = get_board(key, current_user)
    role = board_role(board, current_user)
    default_from, default_to = cadence.default_period(board)
    return render_template(
        "retros/index.html", board=board, retros=services.retros_of(board),
        running=services.running(board), cadence=cadence.cadence_of(board),
        due=cadence.next_due(board), weekdays=cadence.WEEKDAYS, max_weeks=cadence.MAX_WEEKS,
        default_from=default_from, default_to=default_to, action_done=services.action_done,
        can_start=role in ("member", "owner"), can_set=role == "owner")


CSV_COLUMNS = ("id", "period_from", "period_to", "phase", "facilitator", "started_at",
               "closed_at", "notes", "groups", "votes", "actions", "actions_open")


@bp.get("/boards/<key>/retrospectives.csv")
@login_required
def export(key: str):
    """Every retrospective of the board as a spreadsheet."""
    board = get_board(key, current_user)
    rows = [(r.id, r.period_from.isoformat(), r.period_to.isoformat(), r.phase,
             r.facilitator.username, r.started_at.isoformat(),
             r.closed_at.isoformat() if r.closed_at else None, len(r.notes), len(r.groups),
             len(r.votes), len(r.actions),
             sum(1 for a in r.actions if not services.action_done(a)))
            for r in services.retros_of(board)]
    return csv_download(f"{board.key}-retrospectives.csv", CSV_COLUMNS, rows)


@bp.post("/boards/<key>/retrospectives")
@login_required
def start(key: str):
    board = get_board(key, current_user)
    form = request.form
    retro = services.start_retro(board, current_user, period_from=form.get("period_from"),
                                 period_to=form.get("period_to"),
                                 votes_each=form.get("votes_each"))
    db.session.commit()
    return redirect(url_for("retros.show", retro_id=retro.id))


@bp.post("/boards/<key>/retrospectives/cadence")
@login_required
def set_cadence(key: str):
    board = get_board(key, current_user)
    form = request.form
    cadence.set_cadence(board, current_user, every_weeks=form.get("every_weeks"),
                        weekday=form.get("weekday"), starts_at=form.get("starts_at", ""))
    db.session.commit()
    return redirect(url_for("retros.index", key=board.key))


# --- the session ----------------------------------------------------------------------------


def session_context(retro) -> dict:
    role = board_role(retro.board, current_user)
    mine = services.my_votes(retro, current_user)
    return {
        "retro": retro, "kinds": KINDS, "phases": PHASES,
        "items": services.items(retro, current_user),
        "counts": services.column_counts(retro),
        "readable": lambda note: services.readable(retro, note, current_user),
        "totals_shown": services.totals_shown(retro),
        "can_write": role in ("member", "owner"),
        "can_hand_over": services.is_facilitator(retro, current_user) or role == "owner",
        "facilitating": services.is_facilitator(retro, current_user),
        "votes_left": retro.votes_each - len(mine),
        "next_phase": PHASES[PHASES.index(retro.phase) + 1] if retro.phase != "closed" else None,
        "people": assignable_people(retro.board) if role in ("member", "owner") else [],
        "seq": retro.board.last_seq, "action_done": services.action_done,
    }


@bp.get("/retrospectives/<int:retro_id>")
@login_required
def show(retro_id: int):
    retro = services.get_retro(retro_id, current_user)
    return render_template(
        "retros/session.html", **session_context(retro),
        figures=figures.period_figures(retro.board, retro.period_from, retro.period_to))


@bp.get("/retrospectives/<int:retro_id>/session")
@login_required
def session_part(retro_id: int):
    """The live part of the page, as this person sees it (what a push makes views fetch)."""
    retro = services.get_retro(retro_id, current_user)
    return render_template("retros/_session.html", **session_context(retro))


def answer(retro):
    """The session for HTMX, the page otherwise."""
    if htmx:
        return render_template("retros/_session.html", **session_context(retro))
    return redirect(url_for("retros.show", retro_id=retro.id))


def _member_retro(retro_id: int):
    return services.get_retro(retro_id, current_user, "member")


@bp.post("/retrospectives/<int:retro_id>/notes")
@login_required
def add_note(retro_id: int):
    retro = _member_retro(retro_id)
    services.add_note(retro, current_user, kind=request.form.get("kind", ""),
                      body=request.form.get("body", ""))
    db.session.commit()
    return answer(retro)


@bp.post("/retrospectives/<int:retro_id>/group")
@login_required
def group(retro_id: int):
    retro = _member_retro(retro_id)
    services.group_notes(retro, current_user, note_id=request.form.get("note"),
                         with_note_id=request.form.get("with"))
    db.session.commit()
    return answer(retro)


@bp.post("/retrospectives/<int:retro_id>/ungroup")
@login_required
def ungroup(retro_id: int):
    retro = _member_retro(retro_id)
    services.ungroup_note(retro, current_user, note_id=request.form.get("note"))
    db.session.commit()
    return answer(retro)


@bp.post("/retrospectives/<int:retro_id>/groups/<int:group_id>")
@login_required
def name_group(retro_id: int, group_id: int):
    retro = _member_retro(retro_id)
    services.name_group(retro, current_user, group_id=group_id,
                        name=request.form.get("name", ""))
    db.session.commit()
    return answer(retro)


@bp.post("/retrospectives/<int:retro_id>/votes")
@login_required
def vote(retro_id: int):
    retro = _member_retro(retro_id)
    services.vote(retro, current_user, note_id=request.form.get("note"),
                  group_id=request.form.get("group"))
    db.session.commit()
    return answer(retro)


@bp.post("/retrospectives/<int:retro_id>/votes/remove")
@login_required
def unvote(retro_id: int):
    retro = _member_retro(retro_id)
    services.unvote(retro, current_user, note_id=request.form.get("note"),
                    group_id=request.form.get("group"))
    db.session.commit()
    return answer(retro)


@bp.post("/retrospectives/<int:retro_id>/phase")
@login_required
def advance(retro_id: int):
    retro = _member_retro(retro_id)
    services.advance(retro, current_user, to=request.form.get("to", ""))
    db.session.commit()
    return answer(retro)


@bp.post("/retrospectives/<int:retro_id>/facilitator")
@login_required
def hand_over(retro_id: int):
    retro = _member_retro(retro_id)
    services.hand_over(retro, current_user, to=request.form.get("to", ""))
    db.session.commit()
    return answer(retro)


@bp.post("/retrospectives/<int:retro_id>/actions")
@login_required
def add_action(retro_id: int):
    retro = _member_retro(retro_id)
    services.add_action(retro, current_user, title=request.form.get("title", ""),
                        owner=request.form.get("owner") or None)
    db.session.commit()
    return answer(retro)
