"""The API's request and response shapes; flask-smorest derives the OpenAPI document from them.

Request schemas check types only and refuse unknown fields. Which values are allowed (kinds,
policies, levels, limits) is decided by the service layer, so those lists appear here as
documentation (`enum` metadata), never as a second validator.
"""

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from app.boards.models import (
    CLASSES_OF_SERVICE,
    COLUMN_KINDS,
    ROLES,
    SORT_POLICIES,
    VALUE_ACTIVITIES,
    WIP_POLICIES,
)
from app.boards.stream_templates import TEMPLATES
from app.cards.models import CARD_TYPES, LEVELS

WIP_STATES = ("none", "ok", "at", "over")


def documented(description: str = "", **extra) -> dict:
    """Field keyword arguments carrying OpenAPI documentation only."""
    return {"metadata": {**({"description": description} if description else {}), **extra}}


class RequestSchema(Schema):
    class Meta:
        unknown = RAISE


class Reference(fields.Field):
    """A column or lane named by its id (a number) or its name (text); the service resolves it."""

    def __init__(self, **kwargs):
        one_of = [{"type": "integer"}, {"type": "string"}]
        super().__init__(metadata={"oneOf": one_of, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Give an id (a number) or a name (text).")
        return value


class PriorityLabel(fields.String):
    """The priority number that follows from impact × urgency, shown as P1…P5."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"P{value}"


class UtcDateTime(fields.DateTime):
    """Our naive UTC timestamps, marked as UTC with a Z as in the event log."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat() + "Z"


class ViewSchema(Schema):
    """Dumps a view object that wraps a model: fields listed in `view_fields` come from the
    view, the rest from the model found at `model`."""

    model = ""
    view_fields: tuple[str, ...] = ()

    def get_attribute(self, obj, attr, default):
        if attr not in self.view_fields:
            obj = obj[self.model] if isinstance(obj, dict) else getattr(obj, self.model)
        return super().get_attribute(obj, attr, default)


# --- errors --------------------------------------------------------------------------------


class ErrorSchema(Schema):
    error = fields.String(**documented("A stable code: not_found, forbidden, invalid, ..."))
    message = fields.String(**documented("One sentence for a person to read."))
    fields_ = fields.Dict(data_key="fields", **documented("Messages per invalid field."))
    needs_reason = fields.Boolean(
        **documented("On wip_limit: true when an override_reason would let the move through.")
    )


# --- users, boards, members ----------------------------------------------------------------


class UserSchema(Schema):
    username = fields.String()
    display_name = fields.String()


class BoardSchema(Schema):
    """A board (from a dict holding `board` and `role`)."""

    key = fields.String(attribute="board.key")
    name = fields.String(attribute="board.name")
    description = fields.String(attribute="board.description")
    timezone = fields.String(attribute="board.timezone")
    role = fields.String(**documented("Your role on the board.", enum=list(ROLES)))


class NewBoardSchema(RequestSchema):
    name = fields.String(required=True)
    key = fields.String(
        required=True, **documented("2 to 10 letters or digits, starting with a letter.")
    )
    template = fields.String(
        allow_none=True,
        **documented(
            "A value stream to start from; absent or null for an empty board.",
            enum=[*TEMPLATES, None],
        ),
    )
    timezone = fields.String(**documented("IANA time zone, UTC by default."))


class MemberChangeSchema(RequestSchema):
    username = fields.String(required=True)
    role = fields.String(required=True, **documented(enum=list(ROLES)))


class MemberSchema(Schema):
    username = fields.String(attribute="user.username")
    display_name = fields.String(attribute="user.display_name")
    role = fields.String()


# --- columns and lanes ---------------------------------------------------------------------


class ColumnSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String(**documented(enum=list(COLUMN_KINDS)))
    position = fields.Integer()
    wip_limit = fields.Integer(allow_none=True)
    wip_policy = fields.String(**documented(enum=list(WIP_POLICIES)))
    sort_policy = fields.String(**documented(enum=list(SORT_POLICIES)))
    policy_text = fields.String(**documented("Entry criteria and explicit policy (Markdown)."))
    done_checklist = fields.List(fields.String(), **documented("Definition of done."))
    value_activity = fields.String(allow_none=True, **documented(enum=[*VALUE_ACTIVITIES, None]))


class ColumnOnBoardSchema(ViewSchema, ColumnSchema):
    model = "column"
    view_fields = ("count", "state", "is_commitment_point")

    count = fields.Integer(**documented("Cards in the column, every lane, filters ignored."))
    wip_state = fields.String(attribute="state", **documented(enum=list(WIP_STATES)))
    is_commitment_point = fields.Boolean()


class ColumnChangesSchema(RequestSchema):
    name = fields.String()
    kind = fields.String(**documented(enum=list(COLUMN_KINDS)))
    wip_limit = fields.Integer(allow_none=True, **documented("null for no limit."))
    wip_policy = fields.String(**documented(enum=list(WIP_POLICIES)))
    sort_policy = fields.String(**documented(enum=list(SORT_POLICIES)))
    policy_text = fields.String(allow_none=True)
    done_checklist = fields.List(fields.String())
    value_activity = fields.String(allow_none=True, **documented(enum=[*VALUE_ACTIVITIES, None]))


class NewColumnSchema(ColumnChangesSchema):
    name = fields.String(required=True)
    position = fields.Integer(
        allow_none=True, **documented("0-based place among the columns; last when absent.")
    )


class LaneSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    class_of_service = fields.String(**documented(enum=list(CLASSES_OF_SERVICE)))
    position = fields.Integer()
    wip_limit = fields.Integer(allow_none=True)
    wip_policy = fields.String(**documented(enum=list(WIP_POLICIES)))


class LaneOnBoardSchema(ViewSchema, LaneSchema):
    model = "lane"
    view_fields = ("count", "state")

    count = fields.Integer(**documented("Cards of the lane in queue and active columns."))
    wip_state = fields.String(attribute="state", **documented(enum=list(WIP_STATES)))


# --- cards ---------------------------------------------------------------------------------


class CardSchema(Schema):
    key = fields.String(**documented("Board key and number, e.g. SUP-42."))
    title = fields.String()
    description = fields.String(**documented("Markdown."))
    type = fields.String(allow_none=True, **documented(enum=[*CARD_TYPES, None]))
    impact = fields.String(**documented(enum=list(LEVELS)))
    urgency = fields.String(**documented(enum=list(LEVELS)))
    priority = PriorityLabel(
        **documented("Follows from impact and urgency.", enum=["P1", "P2", "P3", "P4", "P5"])
    )
    owner = fields.Pluck(UserSchema, "username", allow_none=True)
    due_date = fields.Date(allow_none=True)
    tags = fields.List(fields.String())
    required_skills = fields.List(fields.String())
    cost_of_delay = fields.Integer(allow_none=True)
    job_size = fields.Integer(allow_none=True)
    column = fields.Integer(attribute="column_id", **documented("The column's id."))
    lane = fields.Integer(attribute="lane_id", **documented("The lane's id."))
    blocked = fields.Boolean()
    blocked_reason = fields.String(allow_none=True)
    version = fields.Integer(**documented("Send it back with a change to detect edit clashes."))
    created_at = UtcDateTime()
    column_entered_at = UtcDateTime()
    started_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)
    archived_at = UtcDateTime(allow_none=True)


class CardOnBoardSchema(ViewSchema, CardSchema):
    model = "card"
    view_fields = ("age_days", "aged", "escalated")

    age_days = fields.Float(allow_none=True, **documented("Work item age; null until started."))
    aged = fields.Boolean(**documented("Older than the board's service level expectation."))
    escalated = fields.Boolean(**documented("Aged or due soon: rises within priority order."))


class ChecklistItemSchema(Schema):
    id = fields.Integer()
    text = fields.String()
    done = fields.Boolean()


class LinkSchema(Schema):
    """A link read from this card's side (from a dict of `relation`, `link` and `other`)."""

    id = fields.Integer(attribute="link.id")
    relation = fields.String(**documented("blocks, is blocked by, relates to, duplicates, ..."))
    card = fields.String(attribute="other.key")
    title = fields.String(attribute="other.title")


class CommentSchema(Schema):
    id = fields.Integer()
    author = fields.Pluck(UserSchema, "username")
    body = fields.String(**documented("Markdown."))
    created_at = UtcDateTime()


class EventSchema(Schema):
    """One entry of a board's event log (app/events/services.py event_as_dict)."""

    board = fields.String()
    seq = fields.Integer()
    type = fields.String()
    at = fields.String(**documented("UTC timestamp, ISO 8601.", format="date-time"))
    actor = fields.String(allow_none=True)
    card = fields.String(allow_none=True, **documented("The card's key, if about a card."))
    from_column = fields.Integer(allow_none=True)
    to_column = fields.Integer(allow_none=True)
    from_lane = fields.Integer(allow_none=True)
    to_lane = fields.Integer(allow_none=True)
    data = fields.Dict()


class CardDetailSchema(ViewSchema, CardSchema):
    model = "card"
    view_fields = ("links", "history")

    checklist = fields.List(fields.Nested(ChecklistItemSchema))
    comments = fields.List(fields.Nested(CommentSchema))
    links = fields.List(fields.Nested(LinkSchema))
    history = fields.List(fields.Nested(EventSchema))


class StaleCardSchema(ErrorSchema):
    card = fields.Nested(CardSchema, **documented("The card as stored now."))


class CardFieldsSchema(RequestSchema):
    title = fields.String()
    description = fields.String(allow_none=True)
    type = fields.String(allow_none=True, **documented(enum=[*CARD_TYPES, None]))
    impact = fields.String(**documented(enum=list(LEVELS)))
    urgency = fields.String(**documented(enum=list(LEVELS)))
    owner = fields.String(allow_none=True, **documented("Username of a member of the board."))
    due_date = fields.Date(allow_none=True)
    tags = fields.List(fields.String())
    required_skills = fields.List(fields.String())
    cost_of_delay = fields.Integer(allow_none=True)
    job_size = fields.Integer(allow_none=True)


class NewCardSchema(CardFieldsSchema):
    title = fields.String(required=True)
    column = Reference(**documented("Column id or name; the first column when absent."))
    lane = Reference(**documented("Lane id or name; the Standard lane when absent."))
    override_reason = fields.String(
        allow_none=True, **documented("Why a hard-with-override WIP limit may be passed.")
    )


class CardChangesSchema(CardFieldsSchema):
    version = fields.Integer(
        allow_none=True, **documented("The version you edited; a newer stored one gives 409.")
    )


class MoveSchema(RequestSchema):
    column = Reference(required=True, **documented("Column id or name."))
    lane = Reference(allow_none=True, **documented("Lane id or name; the card's lane if absent."))
    position = fields.Integer(
        allow_none=True, **documented("0-based place in the target cell; last when absent.")
    )
    version = fields.Integer(allow_none=True)
    override_reason = fields.String(
        allow_none=True, **documented("Why a hard-with-override WIP limit may be passed.")
    )
    swarm = fields.String(
        allow_none=True,
        **documented("Into a done column with an open swarm: what becomes of the swarm.",
                     enum=["resolve", "cancel", "keep"]),
    )


class BlockSchema(RequestSchema):
    reason = fields.String(required=True)
    version = fields.Integer(allow_none=True)


class VersionSchema(RequestSchema):
    version = fields.Integer(allow_none=True)


# --- board page and events -----------------------------------------------------------------


class BoardDetailSchema(BoardSchema):
    """The board as its page shows it (from a dict of `board`, `role`, `view`, `cards`, ...)."""

    last_seq = fields.Integer(
        attribute="board.last_seq", **documented("Ask /events?since= this to follow changes.")
    )
    commitment_point = fields.Integer(
        allow_none=True, **documented("Id of the first non-backlog column.")
    )
    sle_days = fields.Float(
        attribute="view.sle_days",
        allow_none=True,
        **documented("85th percentile of cycle time (days), when known."),
    )
    columns = fields.List(fields.Nested(ColumnOnBoardSchema), attribute="view.columns")
    lanes = fields.List(fields.Nested(LaneOnBoardSchema), attribute="view.lanes")
    cards = fields.List(
        fields.Nested(CardOnBoardSchema),
        **documented("Column by column, lane by lane, each cell in its sort policy's order."),
    )


MAX_SEQ = 2**31 - 1


class EventsQuerySchema(Schema):
    # Bounded by what the database stores (a 32-bit seq): a larger number would fail there.
    since = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_SEQ),
                           **documented("Events after this sequence number."))


class EventsPageSchema(Schema):
    board = fields.String()
    last_seq = fields.Integer(**documented("The board's latest sequence number."))
    more = fields.Boolean(**documented("True when more events follow the last one given."))
    events = fields.List(fields.Nested(EventSchema))


def refusal(blp, status: int, description: str):
    """Document an error answer of a view, with the body app/web/__init__.py sends."""
    return blp.alt_response(status, schema=ErrorSchema, description=description)
