"""The inbox, and watching cards, for tokens and bots: the same services as the pages."""

from flask_smorest import Blueprint

from app.api.auth import api_user, authenticate_request
from app.api.notification_schemas import (
    InboxQuerySchema,
    InboxSchema,
    MarkedSchema,
    NotificationSchema,
    ReadSchema,
    WatchingSchema,
    WatchSchema,
)
from app.api.schemas import refusal
from app.cards.services import get_card
from app.extensions import db
from app.notifications import services
from app.notifications.tell import ring

blp = Blueprint("api_inbox", __name__, url_prefix="/api/v1",
                description="Your inbox: notifications, and the cards you watch.")
blp.before_request(authenticate_request)


@blp.get("/notifications")
@blp.arguments(InboxQuerySchema(), location="query")
@blp.response(200, InboxSchema)
def list_notifications(query):
    """Your notifications, newest first, a page at a time (`before` the last id you got)."""
    found = services.inbox(api_user(), unread_only=query["unread"], before=query["before"],
                           limit=query["limit"])
    return {"unread": services.unread_count(api_user()), "notifications": found}


@blp.post("/notifications/<int:notification_id>/read")
@blp.arguments(ReadSchema())
@blp.response(200, NotificationSchema)
@refusal(blp, 404, "No such notification in your inbox.")
def mark_read(values, notification_id: int):
    """Mark one notification read (or, with `"read": false`, unread again)."""
    notification = services.mark_read(api_user(), notification_id, read=values["read"])
    db.session.commit()
    ring({api_user().id: services.unread_count(api_user())})  # the person's open pages
    return notification


@blp.post("/notifications/read")
@blp.response(200, MarkedSchema)
def mark_all_read():
    """Mark everything read."""
    marked = services.mark_all_read(api_user())
    db.session.commit()
    ring({api_user().id: 0})
    return {"marked": marked, "unread": 0}


@blp.post("/cards/<card_key>/watch")
@blp.arguments(WatchSchema())
@blp.response(200, WatchingSchema)
@refusal(blp, 404, "No such card, or you are not a member of its board.")
def watch_card(values, card_key: str):
    """Watch a card (hear of every change to it) or stop watching it."""
    card = get_card(card_key, api_user())
    if values["watch"]:
        services.watch(api_user(), card.board, card=card)
    else:
        services.unwatch(api_user(), card.board, card=card)
    db.session.commit()
    return {"card": card.key, "watching": values["watch"]}
