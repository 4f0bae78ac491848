"""Retrospectives: a board's team looks back on a period, live, in phases the facilitator moves.

- **write**: members add notes to three columns (went well, to improve, ideas). Each person
  reads their own notes' text and only how many others wrote, so nobody anchors on the first.
- **group**: every note shows; members put notes that say the same thing together, and name
  the group.
- **vote**: each person has `votes_each` votes (3 by default) for groups and notes outside
  groups, may put several on one and take them back; the totals show once voting ends.
- **act**: the items sorted by votes; actions are written, each an improvement card on the
  board with an owner (origin "retrospective" in the improvement register).
- **closed**: nothing changes any more.

Only the facilitator (who started it, or whom they handed over to; a board owner may take it
over) moves the phases, one step forward at a time. One retrospective runs at a time per board.
Every step is an event on the board; note text never goes into one (the write phase keeps it
private to its author, and events reach every view of the board and the webhooks).
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.accounts.models import User
from app.boards.access import board_role, lock_board, require_role
from app.boards.models import Board
from app.cards.models import Card
from app.cards.services import create_card
from app.clock import utcnow
from app.database import by_id
from app.errors import Forbidden, Invalid, NotFound
from app.events.services import record_event
from app.extensions import db
from app.retros.cadence import default_period
from app.retros.models import (
    KINDS,
    PHASES,
    RetroAction,
    RetroGroup,
    RetroNote,
    Retrospective,
    RetroVote,
)
from app.validation import choice, clean_text, optional_date, whole_number

NOTE_MAX = 500
GROUP_NAME_MAX = 120
TITLE_MAX = 200
MAX_VOTES = 10
MAX_PERIOD_DAYS = 366


def get_retro(retro_id, user: User | None, needed: str = "viewer") -> Retrospective:
    retro = by_id(db.session, Retrospective, retro_id)
    if retro is None:
        raise NotFound("There is no such retrospective.")
    require_role(retro.board, user, needed)
    return retro


def retros_of(board: Board) -> list[Retrospective]:
    """The board's retrospectives, newest first."""
    return list(db.session.scalars(select(Retrospective).where(
        Retrospective.board_id == board.id).order_by(Retrospective.started_at.desc())))


def running(board: Board) -> Retrospective | None:
    return db.session.scalar(select(Retrospective).where(
        Retrospective.board_id == board.id, Retrospective.phase != "closed"))


def start_retro(board: Board, actor: User, *, period_from=None, period_to=None,
                votes_each=None, at: datetime | None = None) -> Retrospective:
    """Start a retrospective facilitated by `actor`, looking back on the given days (by
    default since the previous one's period, app/retros/cadence.py). One runs at a time."""
    require_role(board, actor, "member")
    board = lock_board(board)
    if (current := running(board)) is not None:
        raise Invalid(f"A retrospective is already running on {board.key} (started "
                      f"{current.started_at:%Y-%m-%d}); join it, or close it first.")
    at = at or utcnow()
    default_from, default_to = default_period(board, at)
    start = optional_date(period_from, "The period's first day") or default_from
    end = optional_date(period_to, "The period's last day") or default_to
    if end < start:
        raise Invalid("The period must end on or after the day it begins.")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise Invalid(f"A retrospective looks back at most {MAX_PERIOD_DAYS} days.")
    votes = 3 if votes_each in (None, "") else whole_number(
        votes_each, "Votes per person", minimum=1, maximum=MAX_VOTES)
    retro = Retrospective(board_id=board.id, phase="write", period_from=start, period_to=end,
                          votes_each=votes, facilitator_id=actor.id, created_by_id=actor.id,
                          started_at=at)
    db.session.add(retro)
    db.session.flush()
    record_event(board, "retro.started", actor=actor, at=at, retro=retro.id,
                 period_from=start.isoformat(), period_to=end.isoformat())
    return retro


def _changing(retro: Retrospective, actor: User, phases: tuple[str, ...], doing: str) -> Board:
    """The checks every change makes: a member, a retrospective still open, the right phase.
    Returns the board, locked."""
    require_role(retro.board, actor, "member")
    board = lock_board(retro.board)
    db.session.refresh(retro)
    if retro.phase == "closed":
        raise Invalid("This retrospective is closed; nothing in it changes any more.")
    if retro.phase not in phases:
        raise Invalid(f"{doing} is for the {' or '.join(phases)} phase; this retrospective is "
                      f"in its {retro.phase} phase.")
    return board


def add_note(retro: Retrospective, actor: User, *, kind: str, body: str,
             at: datetime | None = None) -> RetroNote:
    """A note in one of the three columns, while the retrospective is in its write phase."""
    board = _changing(retro, actor, ("write",), "Writing notes")
    kind = choice(kind, tuple(KINDS), "The column")
    body = clean_text(body, "A note", NOTE_MAX)
    note = RetroNote(retro=retro, kind=kind, body=body, author_id=actor.id,
                     created_at=at or utcnow())
    db.session.add(note)
    db.session.flush()
    record_event(board, "retro.note_added", actor=actor, at=note.created_at, retro=retro.id,
                 note=note.id, kind=kind)  # never the text: it is private until grouping
    return note


def _note(retro: Retrospective, note_id) -> RetroNote:
    note = by_id(db.session, RetroNote, note_id)
    if note is None or note.retro_id != retro.id:
        raise NotFound("That note is not in this retrospective.")
    return note


def _group(retro: Retrospective, group_id) -> RetroGroup:
    group = by_id(db.session, RetroGroup, group_id)
    if group is None or group.retro_id != retro.id:
        raise NotFound("That group is not in this retrospective.")
    return group


def _leave_group(note: RetroNote) -> None:
    """Take the note out of its group; a group left with one note is no group."""
    group = note.group
    if group is None:
        return
    note.group = None
    rest = [n for n in group.notes if n.id != note.id]
    if len(rest) < 2:
        for other in rest:
            other.group = None
        db.session.delete(group)


def group_notes(retro: Retrospective, actor: User, *, note_id, with_note_id,
                at: datetime | None = None) -> RetroGroup:
    """Put a note with another: into the other's group, or a new group of the two."""
    board = _changing(retro, actor, ("group",), "Grouping notes")
    note, other = _note(retro, note_id), _note(retro, with_note_id)
    if note.id == other.id:
        raise Invalid("A note cannot be grouped with itself.")
    if note.group_id is not None and note.group_id == other.group_id:
        return note.group
    _leave_group(note)
    db.session.flush()
    group = other.group
    if group is None:
        group = RetroGroup(retro=retro, name="", created_at=at or utcnow())
        db.session.add(group)
        other.group = group
    note.group = group
    db.session.flush()
    record_event(board, "retro.grouped", actor=actor, at=at, retro=retro.id, note=note.id,
                 group=group.id)
    return group


def ungroup_note(retro: Retrospective, actor: User, *, note_id,
                 at: datetime | None = None) -> RetroNote:
    board = _changing(retro, actor, ("group",), "Grouping notes")
    note = _note(retro, note_id)
    if note.group is None:
        raise Invalid("That note is not in a group.")
    _leave_group(note)
    db.session.flush()
    record_event(board, "retro.ungrouped", actor=actor, at=at, retro=retro.id, note=note.id)
    return note


def name_group(retro: Retrospective, actor: User, *, group_id, name: str,
               at: datetime | None = None) -> RetroGroup:
    board = _changing(retro, actor, ("group",), "Naming groups")
    group = _group(retro, group_id)
    group.name = clean_text(name, "The group's name", GROUP_NAME_MAX, required=False)
    record_event(board, "retro.group_named", actor=actor, at=at, retro=retro.id,
                 group=group.id, name=group.name)
    return group


def _target(retro: Retrospective, note_id, group_id) -> tuple[int | None, int | None]:
    """What a vote is for: a group, or a note outside any group (a grouped note's vote goes
    to its group)."""
    if group_id not in (None, ""):
        return None, _group(retro, group_id).id
    if note_id in (None, ""):
        raise Invalid("Say which note or group the vote is for.")
    note = _note(retro, note_id)
    return (None, note.group_id) if note.group_id is not None else (note.id, None)


def my_votes(retro: Retrospective, user: User) -> list[RetroVote]:
    return [v for v in retro.votes if v.user_id == user.id]


def vote(retro: Retrospective, actor: User, *, note_id=None, group_id=None,
         at: datetime | None = None) -> RetroVote:
    """One more of the actor's votes on a note or group, within their `votes_each`."""
    board = _changing(retro, actor, ("vote",), "Voting")
    note, group = _target(retro, note_id, group_id)
    used = len(my_votes(retro, actor))
    if used >= retro.votes_each:
        raise Invalid(f"You have used all {retro.votes_each} of your votes; take one back to "
                      "vote for something else.")
    ballot = RetroVote(retro=retro, user_id=actor.id, note_id=note, group_id=group,
                       created_at=at or utcnow())
    db.session.add(ballot)
    db.session.flush()
    record_event(board, "retro.voted", actor=actor, at=ballot.created_at, retro=retro.id,
                 note=note, group=group)  # not the count: totals are hidden while voting
    return ballot


def unvote(retro: Retrospective, actor: User, *, note_id=None, group_id=None,
           at: datetime | None = None) -> None:
    """Take back one of the actor's votes from a note or group."""
    board = _changing(retro, actor, ("vote",), "Taking a vote back")
    note, group = _target(retro, note_id, group_id)
    mine = [v for v in my_votes(retro, actor) if (v.note_id, v.group_id) == (note, group)]
    if not mine:
        raise Invalid("You have no vote there to take back.")
    retro.votes.remove(mine[-1])
    db.session.flush()
    record_event(board, "retro.unvoted", actor=actor, at=at, retro=retro.id, note=note,
                 group=group)


def is_facilitator(retro: Retrospective, user: User | None) -> bool:
    return user is not None and retro.facilitator_id == user.id


def advance(retro: Retrospective, actor: User, *, to: str,
            at: datetime | None = None) -> Retrospective:
    """Move to the next phase. Facilitator only; `to` must be the very next phase, so a
    second click on a stale page does not skip one."""
    board = _changing(retro, actor, PHASES[:-1], "Moving on")
    if not is_facilitator(retro, actor):
        raise Forbidden(f"Only the facilitator ({retro.facilitator.display_name}) moves this "
                        "retrospective on; ask them, or ask them to hand over.")
    following = PHASES[PHASES.index(retro.phase) + 1]
    if to != following:
        raise Invalid(f"This retrospective is in its {retro.phase} phase; the next one is "
                      f"{following}, not {to!r}.")
    at = at or utcnow()
    before, retro.phase = retro.phase, following
    if following == "closed":
        retro.closed_at = at
        record_event(board, "retro.closed", actor=actor, at=at, retro=retro.id,
                     actions=len(retro.actions), notes=len(retro.notes))
    else:
        record_event(board, "retro.phase_changed", actor=actor, at=at, retro=retro.id,
                     phase=following, before=before)
    return retro


def hand_over(retro: Retrospective, actor: User, *, to: str,
              at: datetime | None = None) -> Retrospective:
    """The facilitator hands the phases to another member; a board owner may take them."""
    board = _changing(retro, actor, PHASES[:-1], "Handing over")
    if not is_facilitator(retro, actor) and board_role(board, actor) != "owner":
        raise Forbidden("Only the facilitator (or a board owner) hands the facilitation over.")
    person = db.session.scalar(select(User).where(User.username == (to or "").strip()))
    if person is None or board_role(board, person) not in ("member", "owner"):
        raise Invalid(f"{to!r} is not a member of {board.key}; facilitators are members.")
    retro.facilitator = person
    retro.facilitator_id = person.id
    record_event(board, "retro.facilitator_changed", actor=actor, at=at, retro=retro.id,
                 facilitator=person.username)
    return retro


def add_action(retro: Retrospective, actor: User, *, title: str, owner: str | None = None,
               at: datetime | None = None) -> Card:
    """An action the retrospective decided (act phase): an improvement card on the board's
    first column, owned by whoever will see it through."""
    board = _changing(retro, actor, ("act",), "Writing actions")
    title = clean_text(title, "An action", TITLE_MAX)
    card = create_card(board, actor, title=title, type="improvement", owner=owner or None,
                       at=at, description="An action from the retrospective of "
                                          f"{period_text(retro)}.")
    db.session.add(RetroAction(retro=retro, card=card, created_at=card.created_at))
    record_event(board, "retro.action_added", actor=actor, card=card, at=card.created_at,
                 retro=retro.id, action=card.key, title=title, period=period_text(retro))
    return card


def action_done(action: RetroAction) -> bool:
    return action.card.finished_at is not None or action.card.archived_at is not None


def period_text(retro: Retrospective) -> str:
    return f"{retro.period_from:%d %b} – {retro.period_to:%d %b %Y}"


# --- what a person sees ---------------------------------------------------------------------


@dataclass
class Item:
    """What is voted on and acted upon: a group of notes, or a note on its own."""

    notes: list[RetroNote]
    group: RetroGroup | None = None
    votes: int = 0
    mine: int = 0
    kinds: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int]:
        return ("group", self.group.id) if self.group else ("note", self.notes[0].id)


def items(retro: Retrospective, user: User | None) -> list[Item]:
    """Groups and loose notes with their votes (`mine` is the user's); from the act phase on,
    most votes first."""
    found: dict[tuple[str, int], Item] = {}
    for note in retro.notes:
        key = ("group", note.group_id) if note.group_id else ("note", note.id)
        item = found.setdefault(key, Item([], note.group))
        item.notes.append(note)
        if note.kind not in item.kinds:
            item.kinds.append(note.kind)
    for ballot in retro.votes:
        key = ("group", ballot.group_id) if ballot.group_id else ("note", ballot.note_id)
        if key in found:
            found[key].votes += 1
            if user is not None and ballot.user_id == user.id:
                found[key].mine += 1
    listed = list(found.values())
    if retro.phase in ("act", "closed"):
        listed.sort(key=lambda i: -i.votes)  # stable: ties keep their order
    return listed


def totals_shown(retro: Retrospective) -> bool:
    """Vote totals are hidden while people vote, so nobody follows the crowd."""
    return retro.phase in ("act", "closed")


def readable(retro: Retrospective, note: RetroNote, user: User | None) -> bool:
    """In the write phase a note's text is its author's alone."""
    return retro.phase != "write" or (user is not None and note.author_id == user.id)


def column_counts(retro: Retrospective) -> dict[str, int]:
    return {kind: sum(1 for n in retro.notes if n.kind == kind) for kind in KINDS}


def open_actions(board: Board) -> list[tuple[Card, Retrospective]]:
    """Retrospective actions not done yet (neither finished nor archived), oldest first."""
    rows = db.session.execute(
        select(Card, Retrospective).join(RetroAction, RetroAction.card_id == Card.id)
        .join(Retrospective, Retrospective.id == RetroAction.retro_id)
        .where(Retrospective.board_id == board.id, Card.finished_at.is_(None),
               Card.archived_at.is_(None))
        .order_by(RetroAction.id)).all()
    return [(card, retro) for card, retro in rows]


def is_action(card: Card) -> bool:
    return db.session.scalar(select(RetroAction.id).where(RetroAction.card_id == card.id)) \
        is not None
