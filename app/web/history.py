"""History import (upload) and export (download) pages. Thin: the services decide."""

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from app.boards.access import get_board
from app.clock import utcnow
from app.errors import DomainError
from app.extensions import db
from app.history.csvformat import (
    ATTRIBUTES,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ITEMS,
    ImportRejected,
)
from app.history.services import export_history, import_history
from app.validation import whole_number

bp = Blueprint("history", __name__)

FORM_FIELDS = ("target", "new_key", "new_name", "timezone", "start_stage", "done_stage", "stages",
               "queue_stages")


def render_import(board, *, status: int = 200, error: str | None = None,
                  rejected: ImportRejected | None = None, form=None):
    return render_template(
        "history/import.html",
        board=board,
        error=rejected.message if rejected else error,
        problems=rejected.problems if rejected else [],
        form={name: (form or {}).get(name, "") for name in FORM_FIELDS},
        max_mb=MAX_IMPORT_BYTES / 1024 / 1024,
        max_items=MAX_IMPORT_ITEMS,
        attributes=sorted({name.capitalize() for name in ATTRIBUTES}),
    ), status


@bp.route("/boards/import", methods=["GET", "POST"], defaults={"key": None})
@bp.route("/boards/<key>/import", methods=["GET", "POST"])
@login_required
def import_page(key: str | None):
    """Upload a history file into this board (owners) or into a new board laid out from it."""
    board = get_board(key, current_user, "owner") if key else None
    if request.method == "GET":
        return render_import(board)
    form = request.form
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_import(board, status=422, error="Choose a CSV file to import.", form=form)
    into = board if board is not None and form.get("target", "board") == "board" else None
    try:
        stages = form.get("stages", "").strip()
        result = import_history(
            into,
            upload.read(),
            current_user,
            start_stage=form.get("start_stage"),
            done_stage=form.get("done_stage"),
            stage_count=whole_number(stages, "Number of stages", minimum=2, maximum=500)
            if stages else None,
            queue_stages=form.get("queue_stages", "").splitlines(),
            board_key=form.get("new_key"),
            board_name=form.get("new_name"),
            timezone=(form.get("timezone") or "").strip() or "UTC",
        )
        db.session.commit()
    except ImportRejected as rejected:
        db.session.rollback()
        return render_import(board, status=422, rejected=rejected, form=form)
    except DomainError as error:
        db.session.rollback()
        return render_import(board, status=error.status, error=error.message, form=form)
    return render_template("history/imported.html", result=result, board=result.board)


@bp.errorhandler(413)
def upload_too_large(_error):
    """Refused by size before it is read (the whole request may carry at most 2 MB)."""
    db.session.rollback()
    key = (request.view_args or {}).get("key")
    try:  # the size is refused before the login and role checks of the page ran
        board = get_board(key, current_user, "owner") if key else None
    except DomainError as error:
        return render_template("error.html", message=error.message, status=error.status), \
            error.status
    message = (
        f"The file is larger than {MAX_IMPORT_BYTES / 1024 / 1024:.0f} MB, the most a history "
        f"import takes ({MAX_IMPORT_ITEMS:,} items); split it into several files. Nothing was "
        "imported."
    )
    return render_import(board, status=413, error=message)


@bp.get("/boards/<key>/export.csv")
@login_required
def export_csv(key: str):
    """The board's history as an ActionableAgile CSV, for anyone who may see the board."""
    board = get_board(key, current_user, "viewer")
    filename = f"{board.key}-history-{utcnow():%Y-%m-%d}.csv"
    return Response(
        export_history(board),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
