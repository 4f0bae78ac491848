"""Retrospectives for tokens, bots and reports: the same services and the same privacy as the
pages (in the write phase a note's text is its author's alone; vote totals show once voting
has ended)."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.api.auth import api_user, authenticate_request
from app.api.schemas import documented, refusal
from app.boards.access import get_board
from app.retros import figures, services
from app.retros.models import KINDS, PHASES

blp = Blueprint("api_retros", __name__, url_prefix="/api/v1",
                description="Retrospectives: notes, groups, votes, actions and the period's "
                            "flow figures.")
blp.before_request(authenticate_request)


class RetroActionSchema(Schema):
    card = fields.String(attribute="card.key")
    title = fields.String(attribute="card.title")
    owner = fields.String(attribute="card.owner.username", allow_none=True)
    done = fields.Boolean(**documented("Finished (or archived)."))


class RetroSummarySchema(Schema):
    id = fields.Integer()
    phase = fields.String(**documented(enum=list(PHASES)))
    period_from = fields.Date(**documented("First day looked back on (the board's days)."))
    period_to = fields.Date(**documented("Last day looked back on, included."))
    facilitator = fields.String(attribute="facilitator.username")
    votes_each = fields.Integer()
    started_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    notes = fields.Integer(**documented("How many notes were written."))
    actions = fields.List(fields.Nested(RetroActionSchema))
    actions_open = fields.Integer()


class RetrosSchema(Schema):
    retrospectives = fields.List(fields.Nested(RetroSummarySchema))


class NoteSchema(Schema):
    id = fields.Integer()
    kind = fields.String(**documented(enum=list(KINDS)))
    body = fields.String(allow_none=True, **documented(
        "The text; null for someone else's note while the retrospective is in its write "
        "phase."))
    author = fields.String(allow_none=True, **documented("Shown from the group phase on."))
    group = fields.Integer(allow_none=True)


class ItemSchema(Schema):
    group = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True, **documented("The group's name."))
    notes = fields.List(fields.Integer())
    votes = fields.Integer(allow_none=True, **documented(
        "All votes; null until voting has ended."))
    mine = fields.Integer(**documented("The caller's votes."))


class FiguresSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    days = fields.Integer()
    throughput = fields.Integer(**documented("Cards finished."))
    cycle_p85 = fields.Float(allow_none=True)
    cycle_p50 = fields.Float(allow_none=True)
    flow_efficiency = fields.Float(allow_none=True)
    avg_wip = fields.Float(allow_none=True)
    blocked_days = fields.Float()
    blocked = fields.List(fields.Dict(), **documented("[{reason, count, days}]"))
    andon_pulls = fields.Integer()
    swarms = fields.Integer()


class PeriodFiguresSchema(Schema):
    period = fields.Nested(FiguresSchema)
    before = fields.Nested(FiguresSchema, **documented("The same number of days before."))
    sle_days = fields.Float(allow_none=True)


class RetroSchema(RetroSummarySchema):
    notes = fields.List(fields.Nested(NoteSchema))
    items = fields.List(fields.Nested(ItemSchema), **documented(
        "Groups and notes outside groups, with their votes; most votes first from the act "
        "phase on."))
    figures = fields.Nested(PeriodFiguresSchema)


def summary(retro) -> dict:
    actions = [{"card": a.card, "done": services.action_done(a)} for a in retro.actions]
    return {**{name: getattr(retro, name) for name in (
        "id", "phase", "period_from", "period_to", "facilitator", "votes_each", "started_at",
        "closed_at")}, "notes": len(retro.notes), "actions": actions,
        "actions_open": sum(1 for a in actions if not a["done"])}


def detail(retro, user) -> dict:
    shown = services.totals_shown(retro)
    notes = []
    for note in retro.notes:
        readable = services.readable(retro, note, user)
        notes.append({"id": note.id, "kind": note.kind, "group": note.group_id,
                      "body": note.body if readable else None,
                      "author": note.author.username if readable else None})
    items = [{"group": i.group.id if i.group else None, "name": i.group.name if i.group else None,
              "notes": [n.id for n in i.notes], "votes": i.votes if shown else None,
              "mine": i.mine} for i in services.items(retro, user)]
    return {**summary(retro), "notes": notes, "items": items,
            "figures": figures.period_figures(retro.board, retro.period_from, retro.period_to)}


@blp.get("/boards/<key>/retrospectives")
@blp.response(200, RetrosSchema)
@refusal(blp, 404, "No such board, or not yours to see.")
def list_retros(key: str):
    """The board's retrospectives, newest first."""
    board = get_board(key, api_user())
    return {"retrospectives": [summary(r) for r in services.retros_of(board)]}


@blp.get("/retrospectives/<int:retro_id>")
@blp.response(200, RetroSchema)
@refusal(blp, 404, "No such retrospective, or not yours to see.")
def show_retro(retro_id: int):
    """One retrospective: its notes (as the caller may read them), items and votes, actions
    and the period's flow figures."""
    user = api_user()
    return detail(services.get_retro(retro_id, user), user)
