"""Schemas of the inbox API (app/api/notifications.py)."""

from marshmallow import Schema, fields, validate

from app.api.schemas import MAX_SEQ, RequestSchema, documented
from app.notifications.models import KINDS
from app.notifications.services import INBOX_PAGE


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(**documented(enum=list(KINDS)))
    text = fields.String(**documented("What happened, in a sentence."))
    url = fields.String(**documented("Where it points, a path on this server."))
    board = fields.String(attribute="board.key", allow_none=True)
    card = fields.String(attribute="card.key", allow_none=True)
    invitation = fields.Integer(attribute="invitation_id", allow_none=True,
                                **documented("The swarm invitation to answer, if any."))
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class InboxQuerySchema(Schema):
    unread = fields.Boolean(load_default=False, **documented("Only what is unread."))
    before = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_SEQ),
                            **documented("Older than this notification id (the next page)."))
    limit = fields.Integer(load_default=INBOX_PAGE, validate=validate.Range(min=1, max=200))


class InboxSchema(Schema):
    unread = fields.Integer(**documented("How many notifications are unread in all."))
    notifications = fields.List(fields.Nested(NotificationSchema))


class ReadSchema(RequestSchema):
    read = fields.Boolean(load_default=True)


class MarkedSchema(Schema):
    marked = fields.Integer()
    unread = fields.Integer()


class WatchSchema(RequestSchema):
    watch = fields.Boolean(required=True)


class WatchingSchema(Schema):
    card = fields.String()
    watching = fields.Boolean()
