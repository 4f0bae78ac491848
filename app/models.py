"""Every model, imported in one place so Alembic and the app see the whole schema."""

from app.accounts.models import (
    AccountToken,
    ApiToken,
    AuditEntry,
    ExternalIdentity,
    Team,
    TeamMember,
    User,
    UserAvatar,
    UserSkill,
)
from app.accounts.throttle import LoginFailures
from app.alerts.models import Alert, AlertIntake
from app.boards.models import Board, BoardColumn, BoardInvite, BoardMember, Lane
from app.cards.models import Card, CardLink, ChecklistItem, Comment
from app.events.models import Event
from app.notifications.models import MailSettings, Notification, Watch
from app.retros.models import (
    RetroAction,
    RetroCadence,
    RetroGroup,
    RetroNote,
    Retrospective,
    RetroVote,
)
from app.reviews.models import Improvement, Review, ReviewAction
from app.slos.models import ServiceObjective
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
    "AccountToken",
    "Alert",
    "AlertIntake",
    "AndonHook",
    "ApiToken",
    "AsyncUpdate",
    "AuditEntry",
    "Availability",
    "Board",
    "BoardColumn",
    "BoardInvite",
    "BoardMember",
    "Card",
    "CardLink",
    "ChecklistItem",
    "Comment",
    "Event",
    "ExternalIdentity",
    "Improvement",
    "Lane",
    "LoginFailures",
    "MailSettings",
    "Notification",
    "RetroAction",
    "RetroCadence",
    "RetroGroup",
    "RetroNote",
    "RetroVote",
    "Retrospective",
    "Review",
    "ReviewAction",
    "ServiceObjective",
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
    "UserAvatar",
    "UserInterest",
    "UserSkill",
    "WallLink",
    "Watch",
    "Webhook",
    "WebhookDelivery",
]
