"""Stand-up mode: one facilitator walks the board; everyone's view follows the card in focus.

Every step is a board event (`standup.*`), so the focus reaches every open view of the board —
the wall included — through the same push as a card move, and the summary can be rebuilt.
"""

from datetime import date, datetime

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import user_by_username
from app.boards.access import board_role, lock_board, require_role
from app.boards.models import Board
from app.cards.models import Card
from app.cards.services import create_card, link_cards
from app.clock import utcnow
from app.database import by_id, read_under_write_lock, row_id
from app.errors import Forbidden, Invalid, NotFound
from app.events.models import Event
from app.events.services import record_event
from app.extensions import db
from app.metrics.services import board_today
from app.standups.models import AsyncUpdate, Standup, StandupAttendee, StandupItem, StandupNote
from app.standups.walk import walk_order
from app.validation import choice, clean_text

NOTE_MAX = 2000
UPDATE_MAX = 1000
NORM_MINUTES = 15


# --- finding ---------------------------------------------------------------------------------


def running_standup(board: Board) -> Standup | None:
    return db.session.scalar(
        select(Standup).where(Standup.board_id == board.id, Standup.ended_at.is_(None))
    )


def get_standup(standup_id, user: User) -> Standup:
    """A stand-up of a board the user can see; NotFound otherwise."""
    standup = by_id(db.session, Standup, standup_id)
    if standup is None or board_role(standup.board, user) is None:
        raise NotFound(f"There is no stand-up {standup_id}.")
    return standup


def past_standups(board: Board, limit: int = 50) -> list[Standup]:
    return list(
        db.session.scalars(
            select(Standup)
            .where(Standup.board_id == board.id, Standup.ended_at.is_not(None))
            .order_by(Standup.started_at.desc())
            .limit(limit)
        )
    )


def _last_standup_start(board: Board) -> datetime | None:
    return db.session.scalar(
        select(Standup.started_at)
        .where(Standup.board_id == board.id)
        .order_by(Standup.started_at.desc())
        .limit(1)
    )


def _locked(standup: Standup) -> Standup:
    lock_board(standup.board)
    if not read_under_write_lock(db.session):
        db.session.refresh(standup)
    return standup


def _require_running(standup: Standup) -> None:
    if standup.ended_at is not None:
        raise Invalid("This stand-up has already ended.")


def _require_facilitator(standup: Standup, actor: User, verb: str) -> None:
    if standup.facilitator_id != actor.id:
        raise Forbidden(
            f"Only the facilitator ({standup.facilitator.display_name}) can {verb}; ask them to "
            "hand the stand-up over to you."
        )


def _event(standup: Standup, kind: str, actor: User, at: datetime, card=None, **data) -> None:
    record_event(standup.board, kind, actor=actor, card=card, at=at, standup=standup.id, **data)


# --- starting, joining, handing over ---------------------------------------------------------


def start_standup(board: Board, actor: User, *, remote: bool = False, at=None) -> Standup:
    """Start the board's stand-up with `actor` facilitating. If someone else started one a
    moment earlier, they win and this is refused with their name."""
    require_role(board, actor, "member")
    board = lock_board(board)
    current = running_standup(board)
    if current is not None:
        raise Invalid(
            f"{current.facilitator.display_name} is already facilitating this board's stand-up; "
            "join it instead."
        )
    at = at or utcnow()
    steps = walk_order(board, _last_standup_start(board), at)
    standup = Standup(board_id=board.id, facilitator_id=actor.id, started_at=at,
                      walk=[step.card.id for step in steps])
    standup.attendees.append(StandupAttendee(user_id=actor.id, joined_at=at, remote=remote))
    db.session.add(standup)
    db.session.flush()
    _event(standup, "standup.started", actor, at, facilitator=actor.username,
           cards=len(steps))
    if steps:
        _focus(standup, actor, 0, at)
    return standup


def join_standup(standup: Standup, user: User, *, remote: bool = False, at=None) -> None:
    """Record attendance (in the room or remote); joining twice changes nothing."""
    require_role(standup.board, user, "viewer")
    standup = _locked(standup)
    _require_running(standup)
    if any(a.user_id == user.id for a in standup.attendees):
        return
    at = at or utcnow()
    standup.attendees.append(StandupAttendee(user_id=user.id, joined_at=at, remote=remote))
    db.session.flush()
    _event(standup, "standup.joined", user, at, user=user.username, remote=remote)


def hand_over(standup: Standup, actor: User, username: str, *, at=None) -> None:
    """The facilitator hands the role to another member of the board."""
    standup = _locked(standup)
    _require_running(standup)
    _require_facilitator(standup, actor, "hand the stand-up over")
    successor = user_by_username(username)
    if board_role(standup.board, successor) not in ("member", "owner"):
        raise Invalid(f"{successor.display_name} is not a member of {standup.board.key}.")
    if successor.id == actor.id:
        raise Invalid("You are already the facilitator.")
    at = at or utcnow()
    standup.facilitator_id = successor.id
    if not any(a.user_id == successor.id for a in standup.attendees):
        standup.attendees.append(StandupAttendee(user_id=successor.id, joined_at=at))
    db.session.flush()
    _event(standup, "standup.facilitator", actor, at, facilitator=successor.username)


# --- walking ---------------------------------------------------------------------------------


def _focus(standup: Standup, actor: User, position: int | None, at: datetime) -> None:
    """Move the focus to walk[position] (None: the walk is over), closing the current item."""
    open_item = db.session.scalar(
        select(StandupItem).where(
            StandupItem.standup_id == standup.id, StandupItem.ended_at.is_(None)
        )
    )
    if open_item is not None:
        open_item.ended_at = at
    card = None
    if position is not None:
        card = db.session.get(Card, standup.walk[position])
        db.session.add(StandupItem(standup_id=standup.id, card_id=card.id, started_at=at))
    standup.position, standup.focus_since = position, at
    standup.focus_card = card  # held by the stand-up, the push finds it in the session
    db.session.flush()
    _event(standup, "standup.focus", actor, at, card=card, position=position,
           total=len(standup.walk), focus_since=at.isoformat())


def step(standup: Standup, actor: User, direction: int, *, at=None) -> Standup:
    """Next (+1) or previous (-1) card of the walk; past the last card the walk is over."""
    standup = _locked(standup)
    _require_running(standup)
    _require_facilitator(standup, actor, "move the focus")
    total = len(standup.walk)
    if direction not in (1, -1):
        raise Invalid("Step forwards (next) or backwards (previous).")
    if total == 0:
        raise Invalid("There is no work in progress to walk through.")
    if standup.position is None:
        if direction == 1:
            raise Invalid("The walk is over: go back with Previous, or end the stand-up.")
        position = total - 1
    else:
        position = standup.position + direction
        if position < 0:
            raise Invalid("This is the first card of the walk.")
        if position >= total:
            position = None  # walked past the last card
    _focus(standup, actor, position, at or utcnow())
    return standup


def focus_card(standup: Standup, actor: User, card_key: str, *, at=None) -> Standup:
    """Jump to a card of the walk (the facilitator clicks it)."""
    standup = _locked(standup)
    _require_running(standup)
    _require_facilitator(standup, actor, "move the focus")
    prefix, _, number = (card_key or "").upper().rpartition("-")
    card = db.session.scalar(select(Card).where(
        Card.board_id == standup.board_id, Card.number == int(number)
    )) if prefix == standup.board.key and row_id(number) is not None else None
    if card is None or card.id not in standup.walk:
        raise Invalid(f"{card_key} is not part of this stand-up's walk.")
    _focus(standup, actor, standup.walk.index(card.id), at or utcnow())
    return standup


# --- during the walk -------------------------------------------------------------------------


def add_note(standup: Standup, actor: User, body: str, *, kind: str = "note",
             card_key: str | None = None, at=None) -> StandupNote:
    """A note or a decision, on the card in focus (or another card, or the meeting)."""
    require_role(standup.board, actor, "member")
    standup = _locked(standup)
    _require_running(standup)
    kind = choice(kind, ("note", "decision"), "Kind")
    body = clean_text(body, "Note", NOTE_MAX)
    card = standup.focus_card
    if card_key:
        from app.cards.services import get_card

        card = get_card(card_key, actor)
        if card.board_id != standup.board_id:
            raise Invalid(f"{card.key} is not on {standup.board.key}.")
    at = at or utcnow()
    note = StandupNote(standup_id=standup.id, card_id=card.id if card else None,
                       author_id=actor.id, kind=kind, body=body, created_at=at)
    db.session.add(note)
    db.session.flush()
    _event(standup, f"standup.{kind}", actor, at, card=card, note=note.id)
    return note


def raise_impediment(standup: Standup, actor: User, title: str, *, improvement: bool = False,
                     at=None) -> Card:
    """The parking lot: an impediment becomes a card of its own, blocking the card in focus;
    an improvement card when the team means to change how it works (the register then knows
    it came from the stand-up)."""
    standup = _locked(standup)
    _require_running(standup)
    focus = standup.focus_card
    extra = {"type": "improvement"} if improvement else {}
    card = create_card(standup.board, actor, title=title, tags=["impediment"], at=at, **extra)
    if focus is not None:
        link_cards(card, actor, "blocks", focus.key)
    _event(standup, "standup.impediment", actor, at or utcnow(), card=card,
           blocking=focus.key if focus else None)
    return card


# --- ending ----------------------------------------------------------------------------------


def end_standup(standup: Standup, actor: User, *, at=None) -> Standup:
    """End it (the facilitator, or a board owner) and keep the summary."""
    standup = _locked(standup)
    _require_running(standup)
    if standup.facilitator_id != actor.id and board_role(standup.board, actor) != "owner":
        raise Forbidden("Only the facilitator or a board owner can end the stand-up.")
    at = at or utcnow()
    open_item = db.session.scalar(select(StandupItem).where(
        StandupItem.standup_id == standup.id, StandupItem.ended_at.is_(None)))
    if open_item is not None:
        open_item.ended_at = at
    standup.ended_at = at
    standup.position = standup.focus_card_id = None
    db.session.flush()
    standup.summary = summarise(standup)
    _event(standup, "standup.ended", actor, at, minutes=standup.summary["minutes"])
    return standup


def summarise(standup: Standup) -> dict:
    """Duration, attendees, cards discussed with the time on each, notes and decisions, new
    blockers and swarms started during the meeting."""
    end = standup.ended_at or utcnow()
    items = db.session.scalars(select(StandupItem).where(
        StandupItem.standup_id == standup.id).order_by(StandupItem.id)).all()
    spent: dict[int, float] = {}
    for item in items:
        spent[item.card_id] = spent.get(item.card_id, 0) + (
            (item.ended_at or end) - item.started_at).total_seconds()
    cards = {c.id: c for c in db.session.scalars(select(Card).where(Card.id.in_(list(spent))))}
    notes = db.session.scalars(select(StandupNote).where(
        StandupNote.standup_id == standup.id).order_by(StandupNote.id)).all()
    during = db.session.execute(
        select(Event.type, Event.card_id, Event.data).where(
            Event.board_id == standup.board_id,
            Event.at >= standup.started_at,
            Event.at <= end,
            Event.type.in_(("card.blocked", "swarm.started")),
        )
    ).all()
    keys = {c.id: c.key for c in db.session.scalars(
        select(Card).where(Card.id.in_([e.card_id for e in during if e.card_id])))}
    return {
        "minutes": round((end - standup.started_at).total_seconds() / 60, 1),
        "attendees": [
            {"user": a.user.username, "name": a.user.display_name, "remote": a.remote}
            for a in standup.attendees
        ],
        "cards": [
            {"card": cards[card_id].key, "title": cards[card_id].title, "seconds": round(s)}
            for card_id, s in spent.items()
        ],
        "walk_length": len(standup.walk),
        "notes": [
            {"kind": n.kind, "card": n.card.key if n.card else None, "by": n.author.username,
             "body": n.body}
            for n in notes
        ],
        "new_blockers": [
            {"card": keys.get(e.card_id), "reason": (e.data or {}).get("reason")}
            for e in during if e.type == "card.blocked"
        ],
        "swarms_started": [
            {"card": keys.get(e.card_id), "swarm": (e.data or {}).get("swarm")}
            for e in during if e.type == "swarm.started"
        ],
    }


# --- async stand-up --------------------------------------------------------------------------


def post_update(board: Board, user: User, *, yesterday: str = "", today: str = "",
                blockers: str = "", day: date | None = None) -> AsyncUpdate:
    """Before the meeting: my yesterday / today / blockers for the day's stand-up."""
    require_role(board, user, "member")
    fields = {
        "yesterday": clean_text(yesterday, "Yesterday", UPDATE_MAX, required=False),
        "today": clean_text(today, "Today", UPDATE_MAX, required=False),
        "blockers": clean_text(blockers, "Blockers", UPDATE_MAX, required=False),
    }
    if not any(fields.values()):
        raise Invalid("Write at least one of yesterday, today or blockers.")
    day = day or board_today(board)
    update = db.session.scalar(select(AsyncUpdate).where(
        AsyncUpdate.board_id == board.id, AsyncUpdate.user_id == user.id, AsyncUpdate.day == day))
    if update is None:
        update = AsyncUpdate(board_id=board.id, user_id=user.id, day=day)
        db.session.add(update)
    for name, value in fields.items():
        setattr(update, name, value)
    update.updated_at = utcnow()
    db.session.flush()
    return update


def updates_for(board: Board, day: date | None = None) -> dict[int, AsyncUpdate]:
    """The day's async updates by user id (shown beside each person's cards in the walk)."""
    day = day or board_today(board)
    return {
        u.user_id: u
        for u in db.session.scalars(
            select(AsyncUpdate).where(AsyncUpdate.board_id == board.id, AsyncUpdate.day == day)
        )
    }
