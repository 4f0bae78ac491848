"""Every model, imported in one place so Alembic and the app see the whole schema."""

from app.accounts.models import ApiToken, Team, TeamMember, User, UserSkill
from app.accounts.throttle import LoginFailures
from app.alerts.models import Alert, AlertIntake
from app.boards.models import Board, BoardColumn, BoardMember, Lane
from app.cards.models import Card, CardLink, ChecklistItem, Comment
from app.events.models import Event
from app.notifications.models import MailSettings, Notification, Watch
from app.standups.models import AsyncUpdate, Standup, StandupAttendee, StandupItem, StandupNote
from app.swarms.models import (
    AndonHook,
    Availability,
    Swarm,
    SwarmInvitation,
    SwarmMessage,
    SwarmStint,
    SwarmTask,
    UserInterest,
)
from app.wall.models import WallLink
from app.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "Alert",
    "AlertIntake",
    "AndonHook",
    "AsyncUpdate",
    "Availability",
    "ApiToken",
    "Board",
    "BoardColumn",
    "BoardMember",
    "Card",
    "CardLink",
    "ChecklistItem",
    "Comment",
    "Event",
    "Lane",
    "LoginFailures",
    "MailSettings",
    "Notification",
    "Standup",
    "StandupAttendee",
    "StandupItem",
    "StandupNote",
    "Swarm",
    "SwarmInvitation",
    "SwarmMessage",
    "SwarmStint",
    "SwarmTask",
    "Team",
    "TeamMember",
    "User",
    "UserInterest",
    "UserSkill",
    "WallLink",
    "Watch",
    "Webhook",
    "WebhookDelivery",
]
