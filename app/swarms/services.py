"""The life of a swarm: start, invite, answer, join and leave, talk, decide, resolve or cancel.

Every step locks the card's board and appends an event in the same transaction (`swarm.*`),
so the board's log tells the whole story and the metrics can count it.
"""

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select

from app.accounts.models import User
from app.accounts.services import user_by_username
from app.boards.access import board_role, lock_board, require_role
from app.boards.models import BoardColumn
from app.cards.models import Card
from app.clock import utcnow
from app.database import by_id, rows
from app.errors import Forbidden, Invalid, NotFound, SwarmStillOpen
from app.events import hooks
from app.events.services import record_event
from app.extensions import db
from app.swarms.models import (
    SWARM_TYPES,
    Swarm,
    SwarmInvitation,
    SwarmMessage,
    SwarmStint,
    SwarmTask,
)
from app.validation import choice, clean_text, word_list

HELP_MAX = 2000
MESSAGE_MAX = 4000
OUTCOME_MAX = 4000
REASON_MAX = 300
TASK_MAX = 300
INVITATION_LIFETIME = timedelta(hours=8)


# --- who may do what -------------------------------------------------------------------------


def swarm_access(swarm: Swarm, user: User | None) -> str | None:
    """How `user` may see this swarm: their board role, or "guest" for an expert from outside
    the board who was invited (they see this room and its card, not the rest of the board)."""
    role = board_role(swarm.board, user)
    if role is not None:
        return role
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    invited = db.session.scalar(
        select(SwarmInvitation.id).where(
            SwarmInvitation.swarm_id == swarm.id,
            SwarmInvitation.user_id == user.id,
            SwarmInvitation.status.in_(("pending", "accepted")),
        )
    )
    return "guest" if invited else None


def get_swarm(swarm_id, user: User | None) -> Swarm:
    """A swarm its viewer may see; NotFound for everyone else (a swarm's existence is private)."""
    try:
        swarm = db.session.get(Swarm, int(swarm_id))
    except (TypeError, ValueError):
        swarm = None
    if swarm is None or swarm_access(swarm, user) is None:
        raise NotFound(f"There is no swarm {swarm_id}.")
    return swarm


def can_steer(swarm: Swarm, user: User) -> bool:
    """Resolving, cancelling and reopening belong to the card's owner, whoever started the
    swarm, and the board's owners."""
    return (
        user.id in (swarm.card.owner_id, swarm.started_by_id)
        or board_role(swarm.board, user) == "owner"
    )


def _require_steer(swarm: Swarm, user: User, verb: str) -> None:
    if not can_steer(swarm, user):
        raise Forbidden(
            f"Only the card's owner, whoever started the swarm or a board owner can {verb} it."
        )


def _require_open(swarm: Swarm) -> None:
    if not swarm.is_open:
        raise Invalid(f"This swarm is {swarm.status}; its room is closed.")


def _in_room(swarm: Swarm, user: User) -> SwarmStint | None:
    return next((s for s in swarm.stints if s.user_id == user.id and s.left_at is None), None)


def _lock(swarm: Swarm) -> Swarm:
    lock_board(swarm.board)
    db.session.refresh(swarm)
    return swarm


def _event(swarm: Swarm, kind: str, actor, at, **data) -> None:
    record_event(swarm.board, kind, actor=actor, card=swarm.card, at=at, swarm=swarm.id, **data)


# --- starting --------------------------------------------------------------------------------


def open_swarm_of(card: Card) -> Swarm | None:
    return db.session.scalar(select(Swarm).where(Swarm.card_id == card.id, Swarm.status == "open"))


def start_swarm(
    card: Card,
    actor: User,
    *,
    type: str,
    help_needed: str,
    tried: str = "",
    skills=None,
    at: datetime | None = None,
) -> Swarm:
    """Ask for help on a card. One open swarm per card; the card's owner stays its owner."""
    require_role(card.board, actor, "member")
    lock_board(card.board)
    db.session.refresh(card)
    if card.archived_at is not None:
        raise Invalid(f"{card.key} is archived; restore it before swarming on it.")
    if card.finished_at is not None:
        raise Invalid(f"{card.key} is finished; move it out of done before swarming on it.")
    if open_swarm_of(card) is not None:
        raise Invalid(f"{card.key} already has an open swarm; join it instead.")
    at = at or utcnow()
    swarm = Swarm(
        board_id=card.board_id,
        card=card,
        type=choice(type, SWARM_TYPES, "Swarm type"),
        help_needed=clean_text(help_needed, "The help needed", HELP_MAX),
        tried=clean_text(tried, "What was tried", HELP_MAX, required=False),
        skills=word_list(skills, "Skills needed", max_items=10),
        started_by_id=actor.id,
        started_at=at,
    )
    db.session.add(swarm)
    role = "owner" if card.owner_id == actor.id else "requester"
    swarm.stints.append(SwarmStint(user_id=actor.id, role=role, joined_at=at))
    db.session.flush()
    _event(swarm, "swarm.started", actor, at, swarm_type=swarm.type, skills=swarm.skills,
           help_needed=swarm.help_needed)
    return swarm


# --- invitations -----------------------------------------------------------------------------


def invite(swarm: Swarm, actor: User, username: str, *, why: str = "", at=None) -> SwarmInvitation:
    """Invite someone, from this board's team or any other, to join the swarm."""
    _require_member_of_room_or_board(swarm, actor)
    swarm = _lock(swarm)
    _require_open(swarm)
    invitee = user_by_username(username)
    if _in_room(swarm, invitee):
        raise Invalid(f"{invitee.display_name} is already in this swarm.")
    pending = next(
        (i for i in swarm.invitations if i.user_id == invitee.id and i.status == "pending"), None
    )
    if pending is not None:
        raise Invalid(f"{invitee.display_name} has already been invited and not answered yet.")
    at = at or utcnow()
    invitation = SwarmInvitation(
        user=invitee,
        invited_by_id=actor.id,
        why=clean_text(why, "Why", REASON_MAX, required=False),
        created_at=at,
        expires_at=at + INVITATION_LIFETIME,
    )
    swarm.invitations.append(invitation)
    db.session.flush()
    _event(swarm, "swarm.invited", actor, at, user=invitee.username, invitation=invitation.id)
    return invitation


def _require_member_of_room_or_board(swarm: Swarm, actor: User) -> None:
    if _in_room(swarm, actor) is None and board_role(swarm.board, actor) not in ("member", "owner"):
        raise Forbidden("Only people in the swarm or members of its board can invite.")


def get_invitation(invitation_id, user: User) -> SwarmInvitation:
    try:
        invitation = db.session.get(SwarmInvitation, int(invitation_id))
    except (TypeError, ValueError):
        invitation = None
    if invitation is None or invitation.user_id != user.id:
        raise NotFound(f"There is no invitation {invitation_id} for you.")
    return invitation


def pending_invitations(user: User, now: datetime | None = None) -> list[SwarmInvitation]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(SwarmInvitation)
            .join(Swarm)
            .where(
                SwarmInvitation.user_id == user.id,
                SwarmInvitation.status == "pending",
                SwarmInvitation.expires_at > now,
                Swarm.status == "open",
            )
            .order_by(SwarmInvitation.created_at.desc())
        )
    )


def _answerable(invitation: SwarmInvitation, at: datetime) -> None:
    if invitation.status != "pending":
        raise Invalid(f"This invitation was already {invitation.status}.")
    if invitation.swarm.status != "open":
        raise Invalid(f"This swarm was {invitation.swarm.status}; the invitation no longer stands.")
    if invitation.expires_at <= at:
        invitation.status = "expired"
        raise Invalid("This invitation has expired; ask for a new one if you can still help.")


def accept_invitation(invitation: SwarmInvitation, user: User, *, at=None) -> Swarm:
    """Accept and join the room as an expert."""
    at = at or utcnow()
    swarm = _lock(invitation.swarm)
    db.session.refresh(invitation)
    if invitation.user_id != user.id:
        raise NotFound("There is no such invitation for you.")
    _answerable(invitation, at)
    invitation.status, invitation.answered_at = "accepted", at
    _join(swarm, user, "expert", at)
    _event(swarm, "swarm.invitation_accepted", user, at, user=user.username,
           invitation=invitation.id)
    return swarm


def decline_invitation(invitation: SwarmInvitation, user: User, *, reason: str = "", at=None):
    """Decline, optionally saying why; the owner is then shown the next suggestion."""
    at = at or utcnow()
    swarm = _lock(invitation.swarm)
    db.session.refresh(invitation)
    if invitation.user_id != user.id:
        raise NotFound("There is no such invitation for you.")
    _answerable(invitation, at)
    invitation.status, invitation.answered_at = "declined", at
    invitation.decline_reason = clean_text(reason, "Reason", REASON_MAX, required=False)
    _event(swarm, "swarm.invitation_declined", user, at, user=user.username,
           invitation=invitation.id, reason=invitation.decline_reason)
    return invitation


# --- in the room -----------------------------------------------------------------------------


def _join(swarm: Swarm, user: User, role: str, at: datetime) -> SwarmStint:
    stint = SwarmStint(user_id=user.id, role=role, joined_at=at)
    swarm.stints.append(stint)
    if role == "expert" and swarm.first_expert_at is None:
        swarm.first_expert_at = at
    db.session.flush()
    _event(swarm, "swarm.joined", user, at, user=user.username, role=role)
    return stint


def join_swarm(swarm: Swarm, user: User, *, at=None) -> SwarmStint:
    """Join a running swarm: any member of the board (drop-in), or an invitee."""
    access = swarm_access(swarm, user)
    if access not in ("member", "owner", "guest"):
        raise Forbidden("Viewers can watch the board but not join its swarms.")
    swarm = _lock(swarm)
    _require_open(swarm)
    if _in_room(swarm, user):
        raise Invalid("You are already in this swarm.")
    at = at or utcnow()
    invitation = next(
        (i for i in swarm.invitations if i.user_id == user.id and i.status == "pending"), None
    )
    if invitation is not None:  # joining answers an open invitation
        _answerable(invitation, at)
        invitation.status, invitation.answered_at = "accepted", at
    return _join(swarm, user, "owner" if user.id == swarm.card.owner_id else "expert", at)


def leave_swarm(swarm: Swarm, user: User, *, at=None) -> None:
    swarm = _lock(swarm)
    stint = _in_room(swarm, user)
    if stint is None:
        raise Invalid("You are not in this swarm.")
    at = at or utcnow()
    stint.left_at = at
    _event(swarm, "swarm.left", user, at, user=user.username)


def post_message(swarm: Swarm, user: User, body: str, *, at=None) -> SwarmMessage:
    """A message in the room (Markdown, sanitised when shown). Only people in the room post."""
    swarm = _lock(swarm)
    _require_open(swarm)
    if _in_room(swarm, user) is None:
        raise Forbidden("Join the swarm to post in its room.")
    at = at or utcnow()
    message = SwarmMessage(
        swarm_id=swarm.id, author_id=user.id, created_at=at,
        body=clean_text(body, "Message", MESSAGE_MAX),
    )
    db.session.add(message)
    db.session.flush()
    _event(swarm, "swarm.message", user, at, message=message.id)
    return message


def messages_of(swarm: Swarm) -> list[SwarmMessage]:
    return list(
        db.session.scalars(
            select(SwarmMessage).where(SwarmMessage.swarm_id == swarm.id).order_by(SwarmMessage.id)
        )
    )


def pin_decision(swarm: Swarm, user: User, message_id, *, pinned: bool = True, at=None):
    """Pin a message as a decision (or unpin it)."""
    swarm = _lock(swarm)
    _require_open(swarm)
    if _in_room(swarm, user) is None:
        raise Forbidden("Join the swarm to pin its decisions.")
    message = by_id(db.session, SwarmMessage, message_id)
    if message is None or message.swarm_id != swarm.id:
        raise NotFound("There is no such message in this room.")
    at = at or utcnow()
    message.pinned_at, message.pinned_by_id = (at, user.id) if pinned else (None, None)
    _event(swarm, "swarm.decision" if pinned else "swarm.decision_unpinned", user, at,
           message=message.id)
    return message


def add_task(swarm: Swarm, user: User, text: str, assignee: str | None = None, *, at=None):
    swarm = _lock(swarm)
    _require_open(swarm)
    if _in_room(swarm, user) is None:
        raise Forbidden("Join the swarm to add tasks.")
    person = user_by_username(assignee) if assignee else None
    task = SwarmTask(
        swarm_id=swarm.id, text=clean_text(text, "Task", TASK_MAX),
        assignee_id=person.id if person else None, created_at=at or utcnow(),
    )
    db.session.add(task)
    db.session.flush()
    _event(swarm, "swarm.task_added", user, at, task=task.id, text=task.text,
           assignee=person.username if person else None)
    return task


def set_task_done(swarm: Swarm, user: User, task_id, done: bool, *, at=None) -> SwarmTask:
    swarm = _lock(swarm)
    _require_open(swarm)
    if _in_room(swarm, user) is None:
        raise Forbidden("Join the swarm to tick its tasks.")
    task = by_id(db.session, SwarmTask, task_id)
    if task is None or task.swarm_id != swarm.id:
        raise NotFound("There is no such task in this swarm.")
    task.done = bool(done)
    _event(swarm, "swarm.task_done" if done else "swarm.task_reopened", user, at, task=task.id)
    return task


def tasks_of(swarm: Swarm) -> list[SwarmTask]:
    return list(
        db.session.scalars(
            select(SwarmTask).where(SwarmTask.swarm_id == swarm.id).order_by(SwarmTask.id)
        )
    )


# --- ending ----------------------------------------------------------------------------------


def resolve_swarm(
    swarm: Swarm,
    actor: User,
    *,
    continued_by: str | None,
    outcome: str,
    learned: str = "",
    at=None,
) -> Swarm:
    """Record who continues (the owner kept, or changed to them), release everyone else, and
    append the outcome and what was learned to the card's history."""
    _require_steer(swarm, actor, "resolve")
    swarm = _lock(swarm)
    _require_open(swarm)
    at = at or utcnow()
    card = swarm.card
    successor = user_by_username(continued_by) if continued_by else card.owner
    if successor is None:
        raise Invalid("Say who continues with the card.")
    if board_role(swarm.board, successor) not in ("member", "owner"):
        raise Invalid(
            f"{successor.display_name} is not a member of {swarm.board.key}; add them to the "
            "board before handing the card over."
        )
    outcome = clean_text(outcome, "Outcome", OUTCOME_MAX)
    learned = clean_text(learned, "What was learned", OUTCOME_MAX, required=False)
    swarm.status, swarm.ended_at, swarm.ended_by_id = "resolved", at, actor.id
    swarm.continued_by_id = successor.id
    swarm.outcome, swarm.learned = outcome, learned
    _release_everyone(swarm, at)
    previous_owner = card.owner
    if card.owner_id != successor.id:
        card.owner = successor  # the relationship, not the id: the push renders the new owner
        db.session.flush()
        record_event(swarm.board, "card.updated", actor=actor, card=card, at=at,
                     changes={"owner": [previous_owner.username if previous_owner else None,
                                        successor.username]})
    _event(swarm, "swarm.resolved", actor, at, continued_by=successor.username,
           outcome=swarm.outcome, learned=swarm.learned,
           people=len({s.user_id for s in swarm.stints}))
    from app.swarms.knowledge import index_swarm

    index_swarm(swarm)
    return swarm


def cancel_swarm(swarm: Swarm, actor: User, *, reason: str, at=None) -> Swarm:
    _require_steer(swarm, actor, "cancel")
    swarm = _lock(swarm)
    _require_open(swarm)
    reason = clean_text(reason, "Reason", REASON_MAX)
    at = at or utcnow()
    swarm.status, swarm.ended_at, swarm.ended_by_id = "cancelled", at, actor.id
    swarm.cancel_reason = reason
    _release_everyone(swarm, at)
    _event(swarm, "swarm.cancelled", actor, at, reason=swarm.cancel_reason)
    return swarm


def reopen_swarm(swarm: Swarm, actor: User, *, at=None) -> Swarm:
    """Reopen a resolved swarm (the card turned out not to be clear after all)."""
    _require_steer(swarm, actor, "reopen")
    swarm = _lock(swarm)
    if swarm.status != "resolved":
        raise Invalid(f"Only a resolved swarm can be reopened; this one is {swarm.status}.")
    if open_swarm_of(swarm.card) is not None:
        raise Invalid(f"{swarm.card.key} already has another open swarm.")
    at = at or utcnow()
    swarm.status, swarm.ended_at, swarm.ended_by_id = "open", None, None
    swarm.stints.append(SwarmStint(user_id=actor.id, role="owner"
                                   if actor.id == swarm.card.owner_id else "requester",
                                   joined_at=at))
    _event(swarm, "swarm.reopened", actor, at)
    return swarm


def _release_everyone(swarm: Swarm, at: datetime) -> None:
    for stint in swarm.stints:
        if stint.left_at is None:
            stint.left_at = at
    for invitation in swarm.invitations:
        if invitation.status == "pending":
            invitation.status = "cancelled"


SWARM_DECISIONS = ("resolve", "cancel", "keep")


def end_swarm_with_card(card: Card, actor: User, decision: str | None, *, at=None) -> None:
    """Archiving or finishing a card with an open swarm needs a decision about the swarm:
    `resolve` (whoever owns the card continues; the outcome: it was closed), `cancel`, or
    `keep` it open. Without one, SwarmStillOpen says so and nothing changes."""
    swarm = open_swarm_of(card)
    if swarm is None or decision == "keep":
        return
    if decision == "resolve":
        owner = card.owner or actor
        resolve_swarm(swarm, actor, continued_by=owner.username,
                      outcome=f"Closed with the card {card.key}.", at=at)
    elif decision == "cancel":
        cancel_swarm(swarm, actor, reason=f"{card.key} was closed.", at=at)
    elif decision:
        raise Invalid(f"Say resolve, cancel or keep for the swarm (got {decision!r}).")
    else:
        raise SwarmStillOpen(
            f"{card.key} has an open swarm: resolve it, cancel it or keep it open."
        )


@hooks.recorded.connect
def _end_swarm_with_finished_card(board, *, event, session, decisions) -> None:
    """A card moved into a done column, or archived, settles its open swarm as the person said
    (`decisions["swarm"]`); without a word the whole change is refused (SwarmStillOpen)."""
    if event.type == "card.archived":
        finished = True
    elif event.type == "card.moved" and event.to_column_id != event.from_column_id:
        finished = session.get(BoardColumn, event.to_column_id).kind == "done"
    else:
        return
    if finished:
        end_swarm_with_card(session.get(Card, event.card_id), event.actor,
                            decisions.get("swarm"), at=event.at)


# Built once, run with parameters: a push asks for every moved card (app/database.py says why).
_SWARMING = (
    select(Swarm.card_id, SwarmStint.user_id)
    .join(SwarmStint, SwarmStint.swarm_id == Swarm.id)
    .where(Swarm.board_id == bindparam("board"), Swarm.status == "open",
           SwarmStint.left_at.is_(None))
)
_SWARMING_ON_CARD = _SWARMING.where(Swarm.card_id == bindparam("card"))


def swarm_counts(board_id: int, card_id: int | None = None) -> dict[int, int]:
    """People in each open swarm on a board (or on one of its cards), by card id (the board's
    live badges)."""
    if card_id is None:
        stints = rows(db.session, _SWARMING, {"board": board_id})
    else:
        stints = rows(db.session, _SWARMING_ON_CARD, {"board": board_id, "card": card_id})
    people: dict[int, set] = {}
    for card_id, user_id in stints:
        people.setdefault(card_id, set()).add(user_id)
    return {card_id: len(users) for card_id, users in people.items()}
