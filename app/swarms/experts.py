"""People as helpers: skills with a level, interests, "available to help", current load, and the
ranking of suggested experts for a swarm."""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import CompoundSelect, Select, func, select, union

from app.accounts.models import TeamMember, User, UserSkill
from app.boards.models import Board
from app.cards.models import Card
from app.clock import utcnow
from app.errors import Invalid
from app.extensions import db
from app.swarms.models import Availability, Swarm, UserInterest
from app.validation import clean_text

SUGGESTIONS = 8


# --- profiles --------------------------------------------------------------------------------


def set_interest(user: User, skill: str, wanted: bool = True) -> None:
    skill = clean_text(skill, "Interest", 60).lower()
    existing = db.session.get(UserInterest, (user.id, skill))
    if wanted and existing is None:
        db.session.add(UserInterest(user_id=user.id, skill=skill))
    elif not wanted and existing is not None:
        db.session.delete(existing)


def interests_of(user: User) -> list[str]:
    return list(
        db.session.scalars(
            select(UserInterest.skill).where(UserInterest.user_id == user.id)
            .order_by(UserInterest.skill)
        )
    )


def remove_skill(user: User, skill: str) -> None:
    entry = next((s for s in user.skills if s.skill == (skill or "").lower()), None)
    if entry is None:
        raise Invalid(f"You have no skill {skill!r}.")
    user.skills.remove(entry)


def set_available(user: User, available: bool, note: str = "") -> None:
    """Declare yourself available for drop-in swarms (or not any more)."""
    current = db.session.get(Availability, user.id)
    if available:
        note = clean_text(note, "Note", 120, required=False)
        if current is None:
            db.session.add(Availability(user_id=user.id, since=utcnow(), note=note))
        else:
            current.note = note
    elif current is not None:
        db.session.delete(current)


def is_available(user: User) -> bool:
    return db.session.get(Availability, user.id) is not None


def loads(user_ids) -> dict[int, int]:
    """Cards each person owns that are started and not finished (their work in progress).
    `user_ids` is a list of ids or a query selecting them."""
    if isinstance(user_ids, Select | CompoundSelect):
        ids = user_ids
    else:
        ids = list(user_ids)
        if not ids:
            return {}
    rows = db.session.execute(
        select(Card.owner_id, func.count())
        .where(
            Card.owner_id.in_(ids),
            Card.started_at.is_not(None),
            Card.finished_at.is_(None),
            Card.archived_at.is_(None),
        )
        .group_by(Card.owner_id)
    )
    return dict(rows.all())


def available_now() -> list[tuple[User, Availability]]:
    """The drop-in panel: everyone available to help, longest waiting first."""
    return list(
        db.session.execute(
            select(User, Availability).join(Availability).order_by(Availability.since)
        ).tuples()
    )


# --- suggestions -----------------------------------------------------------------------------


@dataclass
class Suggestion:
    user: User
    levels: dict[str, int]  # needed skills this person has, with their level
    load: int
    available: bool
    same_team: bool
    learning: list[str] = field(default_factory=list)  # needed skills they want to grow
    completes: bool = False  # part of the smallest group found covering every needed skill
    why: str = ""


def suggest_experts(
    board: Board, skills: list[str], *, exclude=(), limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """Who could help with these skills, best first.

    Ranking: first the smallest group of people found that covers every needed skill (chosen
    greedily: whoever covers most of what is still uncovered, then the higher level), then
    everyone else by how many needed skills they cover and how well; ties go to the lighter
    load, then to those available to help now. People who want to learn a needed skill come
    last, as watchers. Anyone can be suggested, from this board's team or another.
    """
    needed = [s.lower() for s in skills if s]
    if not needed:
        return []
    excluded = set(exclude)
    # Everyone with or wanting a needed skill, as a subquery: the per-person facts below are
    # asked for in one query each, without sending hundreds of ids back to the database.
    candidates = union(
        select(UserSkill.user_id).where(UserSkill.skill.in_(needed)),
        select(UserInterest.user_id).where(UserInterest.skill.in_(needed)),
    )
    levels: dict[int, dict[str, int]] = defaultdict(dict)
    for user_id, skill, level in db.session.execute(
        select(UserSkill.user_id, UserSkill.skill, UserSkill.level).where(
            UserSkill.skill.in_(needed)
        )
    ):
        if user_id not in excluded:
            levels[user_id][skill] = level
    learners: dict[int, list[str]] = defaultdict(list)
    for user_id, skill in db.session.execute(
        select(UserInterest.user_id, UserInterest.skill).where(UserInterest.skill.in_(needed))
    ):
        if user_id not in excluded and user_id not in levels:
            learners[user_id].append(skill)
    if not levels and not learners:
        return []
    load = loads(candidates)
    available = set(db.session.scalars(select(Availability.user_id).where(
        Availability.user_id.in_(candidates))))
    # Names for the tie-break only; whole people are loaded for the few suggested.
    names = dict(db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(candidates))).all())

    def tie_break(user_id: int):
        return (load.get(user_id, 0), user_id not in available, names[user_id].lower())

    # Ranked as (user id, the needed skills they have) before any Suggestion is made.
    cover, uncovered = [], set(needed)
    pool = {user_id: set(has) for user_id, has in levels.items()}
    while uncovered and pool:
        best = min(
            pool,
            key=lambda uid: (-len(uncovered & pool[uid]),
                             -sum(levels[uid][k] for k in uncovered & pool[uid]),
                             *tie_break(uid)),
        )
        if not uncovered & pool[best]:
            break
        uncovered -= pool.pop(best)
        cover.append(best)
    rest = sorted(pool, key=lambda uid: (-len(levels[uid]), -sum(levels[uid].values()),
                                         *tie_break(uid)))
    watchers = sorted(learners, key=tie_break)
    ranked_ids = (cover + rest + watchers)[:limit]
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ranked_ids)))}
    team_mates = _team_mates(board, ranked_ids)
    in_cover = set(cover)
    ranked = []
    for user_id in ranked_ids:
        suggestion = Suggestion(
            users[user_id], levels.get(user_id, {}), load.get(user_id, 0),
            user_id in available, user_id in team_mates, sorted(learners.get(user_id, [])),
            # if nobody has the rest, the group is the best there is
            completes=user_id in in_cover and not uncovered,
        )
        suggestion.why = _why(suggestion, needed, len(cover))
        ranked.append(suggestion)
    return ranked


def _team_mates(board: Board, ids) -> set[int]:
    if board.team_id is None:
        from app.boards.models import BoardMember

        return set(db.session.scalars(select(BoardMember.user_id).where(
            BoardMember.board_id == board.id, BoardMember.user_id.in_(ids))))
    return set(db.session.scalars(select(TeamMember.user_id).where(
        TeamMember.team_id == board.team_id, TeamMember.user_id.in_(ids))))


def _why(s: Suggestion, needed: list[str], group_size: int) -> str:
    parts = []
    if s.levels:
        parts.append("knows " + ", ".join(f"{k} ({s.levels[k]}/5)" for k in needed
                                          if k in s.levels))
        if s.completes and group_size == 1:
            parts.append("covers every skill needed")
        elif s.completes:
            parts.append(f"one of {group_size} who together cover every skill needed")
    else:
        parts.append("wants to learn " + ", ".join(s.learning))
    parts.append(f"{s.load} card{'s' if s.load != 1 else ''} in progress")
    if s.available:
        parts.append("available to help now")
    if not s.same_team:
        parts.append("from another team")
    return "; ".join(parts)


def suggestions_for(swarm: Swarm, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Suggestions for a running swarm: not the people already in it, invited and pending, or
    the card's owner."""
    taken = {s.user_id for s in swarm.stints if s.left_at is None}
    taken |= {i.user_id for i in swarm.invitations if i.status in ("pending", "accepted")}
    taken |= {i.user_id for i in swarm.invitations if i.status == "declined"}
    if swarm.card.owner_id:
        taken.add(swarm.card.owner_id)
    return suggest_experts(swarm.board, swarm.skills or [], exclude=taken, limit=limit)
