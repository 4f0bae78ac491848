"""The andon cord: anyone on the board, or a pipeline through a webhook, stops the line on a card.

Pulling flags the card, shows a banner on every view of the board (the `card.andon_pulled`
event is pushed like any other) and opens an andon swarm; clearing records the time to clear.
"""

import secrets
from datetime import datetime

from sqlalchemy import select

from app.accounts.models import User
from app.boards.access import board_role, lock_board, require_role
from app.boards.models import Board
from app.cards.models import Card
from app.cards.services import create_card
from app.clock import utcnow
from app.database import by_id, row_id
from app.errors import Forbidden, Invalid, NotFound
from app.events.services import record_event
from app.extensions import db
from app.swarms.models import AndonHook, Swarm
from app.swarms.services import open_swarm_of, start_swarm
from app.tokens import digest
from app.validation import clean_text

HOOK_PREFIX = "sbh_"
REASON_MAX = 300


def pull_andon(card: Card, actor: User, reason: str, *, via: str | None = None, at=None) -> Swarm:
    """Flag the card and open an andon swarm on it (or keep the swarm it already has)."""
    require_role(card.board, actor, "member")
    lock_board(card.board)
    db.session.refresh(card)
    reason = clean_text(reason, "Andon reason", REASON_MAX)
    if card.archived_at is not None:
        raise Invalid(f"{card.key} is archived; restore it first.")
    if card.andon_at is not None:
        raise Invalid(f"The andon cord is already pulled on {card.key}: {card.andon_reason}")
    at = at or utcnow()
    card.andon_at, card.andon_reason = at, reason
    db.session.flush()
    record_event(card.board, "card.andon_pulled", actor=actor, card=card, at=at, reason=reason,
                 via=via)
    swarm = open_swarm_of(card)
    if swarm is None:
        swarm = start_swarm(card, actor, type="andon", help_needed=reason, at=at)
    return swarm


def clear_andon(card: Card, actor: User, *, at=None) -> Card:
    require_role(card.board, actor, "member")
    lock_board(card.board)
    db.session.refresh(card)
    if card.andon_at is None:
        raise Invalid(f"The andon cord is not pulled on {card.key}.")
    at = at or utcnow()
    seconds = max(0.0, (at - card.andon_at).total_seconds())
    reason = card.andon_reason
    card.andon_at, card.andon_reason = None, None
    db.session.flush()
    record_event(card.board, "card.andon_cleared", actor=actor, card=card, at=at, reason=reason,
                 seconds_to_clear=seconds)
    return card


def andon_cards(board: Board) -> list[Card]:
    """Cards with the cord pulled: the banners on every view of the board."""
    return list(
        db.session.scalars(
            select(Card)
            .where(Card.board_id == board.id, Card.andon_at.is_not(None),
                   Card.archived_at.is_(None))
            .order_by(Card.andon_at)
        )
    )


# --- the inbound webhook ---------------------------------------------------------------------


def create_hook(board: Board, actor: User, name: str) -> tuple[AndonHook, str]:
    """A new webhook token for the board (owners only); the token is returned once."""
    require_role(board, actor, "owner")
    token = HOOK_PREFIX + secrets.token_urlsafe(32)
    hook = AndonHook(
        board_id=board.id, created_by_id=actor.id, name=clean_text(name, "Hook name", 80),
        token_hash=digest(token), prefix=token[:12],
    )
    db.session.add(hook)
    db.session.flush()
    return hook, token


def hooks_of(board: Board) -> list[AndonHook]:
    return list(db.session.scalars(
        select(AndonHook).where(AndonHook.board_id == board.id).order_by(AndonHook.id)))


def revoke_hook(board: Board, actor: User, hook_id) -> None:
    require_role(board, actor, "owner")
    hook = by_id(db.session, AndonHook, hook_id)
    if hook is None or hook.board_id != board.id:
        raise NotFound("There is no such webhook on this board.")
    hook.revoked_at = hook.revoked_at or utcnow()


def hook_for(board: Board, token: str | None) -> AndonHook:
    """The live hook a token belongs to on this board; Forbidden for anything else."""
    hook = db.session.scalar(select(AndonHook).where(AndonHook.token_hash == digest(token or "")))
    if hook is None or hook.board_id != board.id or hook.revoked_at is not None:
        raise Forbidden("That webhook token is not valid for this board.")
    if not hook.created_by.is_active:
        raise Forbidden("Whoever created this webhook has been deactivated; make a new one.")
    if board_role(board, hook.created_by) not in ("member", "owner"):
        raise Forbidden("Whoever created this webhook is no longer on the board; make a new one.")
    return hook


def pull_by_webhook(board: Board, token: str | None, body, at: datetime | None = None) -> Swarm:
    """`{"card": "SUP-12", "reason": "..."}` pulls the cord on a card; `{"title": "...",
    "reason": "..."}` first creates the card (in the Expedite lane when the board has one)."""
    hook = hook_for(board, token)
    if not isinstance(body, dict):
        raise Invalid('The body must be a JSON object like {"card": "SUP-12", "reason": "..."}.')
    unknown = set(body) - {"card", "title", "reason"}
    if unknown:
        raise Invalid(f"Unknown field {sorted(unknown)[0]!r}; send card or title, and reason.")
    if ("card" in body) == ("title" in body):
        raise Invalid("Name an existing card (card) or a new card's title (title), not both.")
    reason = body.get("reason")
    if not isinstance(reason, str):
        raise Invalid("The reason must be text.")
    via = f"webhook {hook.name}"
    actor = hook.created_by
    if "card" in body:
        card = _card_on(board, body["card"])
    else:
        if not isinstance(body["title"], str):
            raise Invalid("The title must be text.")
        lane = next((ln for ln in board.lanes if ln.class_of_service == "expedite"), None)
        card = create_card(board, actor, title=body["title"], lane=lane, type="incident",
                           impact="high", urgency="high", override_reason=f"Andon ({via})",
                           at=at)
    return pull_andon(card, actor, reason, via=via, at=at)


def _card_on(board: Board, key) -> Card:
    if not isinstance(key, str) or "-" not in key:
        raise Invalid(f"card must be a card key like {board.key}-12.")
    prefix, _, number = key.upper().rpartition("-")
    card = None
    if prefix == board.key and row_id(number) is not None:
        card = db.session.scalar(
            select(Card).where(Card.board_id == board.id, Card.number == int(number)))
    if card is None:
        raise NotFound(f"There is no card {key} on {board.key}.")
    return card
