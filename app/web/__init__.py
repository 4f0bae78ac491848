"""What every HTML page shares: error responses, flash fragments and template helpers."""

import json

from flask import current_app, jsonify, make_response, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import (
    InterfaceError,
    OperationalError,
    PendingRollbackError,
    SQLAlchemyError,
)
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from app.board_view import DONE_SHOWN_DAYS, DONE_SHOWN_PER_CELL
from app.boards.models import (
    CLASSES_OF_SERVICE,
    COLUMN_KINDS,
    SORT_POLICIES,
    VALUE_ACTIVITIES,
    Board,
)
from app.cards.models import CARD_TYPES, LEVELS
from app.database import MAX_ID
from app.errors import DomainError, Invalid, NotFound
from app.extensions import db, htmx
from app.mail import mail_on
from app.swarms.andon import hook_for
from app.swarms.models import SWARM_TYPE_LABELS, SWARM_TYPES
from app.text import render_markdown

ACTIVITY_LABELS = {
    "plan": "Plan",
    "improve": "Improve",
    "engage": "Engage",
    "design_transition": "Design & transition",
    "obtain_build": "Obtain/build",
    "deliver_support": "Deliver & support",
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(code: str, message: str, status: int, **details):
    return jsonify({"error": code, "message": message, **details}), status


def hook_token() -> str | None:
    """An incoming webhook's token: `Authorization: Bearer …` or the X-Swarmboard-Token header."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-Swarmboard-Token", "").strip() or None


def hook_body(limit: int) -> bytes | None:
    """An incoming webhook's body, read at most `limit` bytes; None when it is larger."""
    if (request.content_length or 0) > limit:
        return None
    raw = request.stream.read(limit + 1)
    return None if len(raw) > limit else raw


def incoming_hook(key: str, limit: int, example: str, act):
    """An incoming webhook call on board `key`: the body (at most `limit` bytes of JSON) and a
    token of the board's incoming webhooks; `act(board, token, body)` does the change and says
    what it did. Answers JSON, refusals included; a refused call changes nothing."""
    raw = hook_body(limit)
    if raw is None:
        size = f"{limit // 1024 // 1024} MiB" if limit >= 1 << 20 else f"{limit // 1024} KiB"
        return api_error("too_large", f"The body is larger than {size}.", 413)
    token = hook_token()
    if token is None:
        return api_error("unauthorized", "Send the webhook token as 'Authorization: Bearer "
                         "sbh_…' or in the X-Swarmboard-Token header.", 401)
    try:
        board = db.session.scalar(select(Board).where(Board.key == key.upper()))
        if board is None:
            raise NotFound(f"There is no board {key}.")
        hook_for(board, token)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return api_error("bad_request", f"The body is not JSON; send {example}.", 400)
        if _holds_nul(body):
            raise Invalid("The body holds a NUL character (\\u0000), which cannot be stored.")
        answer = act(board, token, body)
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        return api_error(refused.code, refused.message, refused.status)
    return {**answer, "seq": board.last_seq}, 201


def go_to(target: str):
    """Send the browser to `target`: a redirect, or for an HTMX request the header that makes
    htmx load the page (a 3xx would be followed inside the swap)."""
    if htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


def flash_response(message: str, status: int, level: str = "error"):
    """An HTMX answer that puts a message in the page's message area, whatever the target."""
    response = make_response(render_template("_flash.html", message=message, level=level), status)
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def error_response(message: str, status: int, code: str, **details):
    if is_api_request():
        return api_error(code, message, status, **details)
    if htmx:
        return flash_response(message, status)
    return render_template("error.html", message=message, status=status), status


def invalid_arguments(messages: dict, status: int):
    """webargs' messages ({location: {field: [message]}}) as one sentence naming a field,
    with every message per field under "fields"."""
    problems = {}
    for location, found in messages.items():
        if isinstance(found, dict):
            problems.update(found)
        else:
            problems[location] = found
    field, found = next(iter(problems.items()))
    while isinstance(found, dict):  # a list item or nested field: {0: ["Not a valid string."]}
        key, found = next(iter(found.items()))
        field = f"{field}[{key}]"
    first = found[0] if isinstance(found, list) and found else str(found)
    if field in ("json", "_schema"):
        message = f"The request body is not usable: {first}"
    else:
        message = f"Field {field!r}: {first}"
    if len(problems) > 1:
        message += f" ({len(problems) - 1} more field(s) listed under 'fields')"
    code = "invalid" if status == 422 else "bad_request"
    return api_error(code, message, status, fields=problems)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def refuse_nul_characters() -> None:
    """No text a person or a program sends may hold a NUL character: PostgreSQL cannot store
    one (it would fail the write as a server error), and no one types it on purpose."""
    sent = list(request.args.values())
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent += request.form.values()
    elif request.is_json and is_api_request():  # incoming hooks read their own, bounded body
        sent.append(request.get_json(silent=True))
    if any(_holds_nul(value) for value in sent):
        raise Invalid("The text sent holds a NUL character (\\0), which cannot be stored; "
                      "remove it and send it again.")


def register_error_handlers(app) -> None:
    app.before_request(refuse_nul_characters)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return error_response(error.message, error.status, error.code, **error.details)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = "Your session's security token is missing or expired; reload the page."
        return error_response(message, 400, "csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        messages = (getattr(error, "data", None) or {}).get("messages")
        if is_api_request() and messages:
            return invalid_arguments(messages, error.code or 422)
        message = error.description or error.name
        if error.code == 404:
            message = "There is nothing at this address."
        return error_response(message, error.code or 500, error.name.lower().replace(" ", "_"))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PendingRollbackError)  # the transaction died with its connection
    def database_unreachable(error):
        """The database cannot be reached (restarting, the network between): say so at once,
        and let the pool connect afresh on the next request (no restart of ours needed)."""
        try:
            db.session.rollback()
        except SQLAlchemyError:
            db.session.remove()  # the connection is gone: drop the session with it
        current_app.logger.warning("Database unreachable: %s", str(error).splitlines()[0][:200])
        response = error_response("The database cannot be reached just now; nothing was saved. "
                                  "Try again in a moment.", 503, "unavailable")
        response = make_response(response)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        current_app.logger.exception("Unhandled error")
        return error_response("Something went wrong on our side; nothing was saved.", 500,
                              "server_error")


TYPE_CODES = {
    "incident": "INC",
    "service_request": "SR",
    "change": "CHG",
    "problem": "PRB",
    "defect": "DEF",
    "feature": "FEAT",
    "improvement": "IMP",
    "experiment": "EXP",
    "toil": "TOIL",
}


def format_age(days: float | None) -> str:
    if days is None:
        return ""
    if days < 1 / 24:
        return "<1h"
    if days < 1:
        return f"{round(days * 24)}h"
    return f"{int(days)}d"


def register_template_helpers(app) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["age"] = format_age
    app.jinja_env.globals.update(
        CARD_TYPES=CARD_TYPES,
        LEVELS=LEVELS,
        COLUMN_KINDS=COLUMN_KINDS,
        SORT_POLICIES=SORT_POLICIES,
        VALUE_ACTIVITIES=VALUE_ACTIVITIES,
        ACTIVITY_LABELS=ACTIVITY_LABELS,
        TYPE_CODES=TYPE_CODES,
        CLASSES_OF_SERVICE=CLASSES_OF_SERVICE,
        DONE_SHOWN_DAYS=DONE_SHOWN_DAYS,
        DONE_SHOWN_PER_CELL=DONE_SHOWN_PER_CELL,
        SWARM_TYPES=SWARM_TYPES,
        SWARM_TYPE_LABELS=SWARM_TYPE_LABELS,
        mail_on=mail_on,
    )


class DatabaseInt(IntegerConverter):
    """`<int:…>` in every route: a whole number the database can hold (a 32-bit id). A larger
    one finds nothing (404), instead of failing in the database (PostgreSQL refuses it)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002  (werkzeug's name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_blueprints(app) -> None:
    """The HTML pages and forms, one module per area, each thin over its services."""
    app.url_map.converters["int"] = DatabaseInt
    from app.web import (
        accounts,
        admin,
        alerts,
        boards,
        cards,
        history,
        inbox,
        invites,
        live,
        metrics,
        retros,
        reviews,
        slos,
        sso,
        standups,
        swarm_cards,  # noqa: F401  (its routes are on the swarming blueprint)
        swarming,
        swarms,
        wall,
        wall_links,
        webhooks,
    )

    for area in (accounts, boards, cards, metrics, history, swarms, swarming, standups, wall,
                 wall_links, webhooks, alerts, inbox, live, admin, invites, sso, reviews, retros,
                 slos):
        app.register_blueprint(area.bp)
    sso.init_sso(app)
