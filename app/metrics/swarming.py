"""Swarm metrics over a window (domain.md, "Swarming"): how often and how people swarm, how fast
help arrives, and whether swarmed cards flow differently from the others.

Contribution is reported per team, never per person: swarming is a team habit, not a contest.
"""

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import Team, TeamMember
from app.boards.models import Board
from app.cards.age import DAY
from app.extensions import db
from app.metrics.flow import percentile_nearest_rank
from app.swarms.models import SWARM_TYPES, Swarm, SwarmStint


def _stats(values: list[float]) -> dict:
    return {
        "count": len(values),
        "p50": _round(percentile_nearest_rank(values, 50)),
        "p85": _round(percentile_nearest_rank(values, 85)),
        "mean": _round(sum(values) / len(values)) if values else None,
    }


def _round(value):
    return None if value is None else round(value, 4)


def swarm_metrics(
    board: Board,
    card_ids: set[int],
    window: tuple[datetime, datetime],
    weeks: list,
    finished: list[tuple[int, float, datetime]],
) -> dict:
    """Swarms on the admitted cards (`card_ids`) started within the window; `finished` holds
    (card id, cycle time in days, finished at) of the cards finished in the window."""
    start, end = window
    swarms = [
        s
        for s in db.session.scalars(
            select(Swarm).where(Swarm.board_id == board.id, Swarm.started_at < end)
        )
        if s.card_id in card_ids
    ]
    in_window = [s for s in swarms if s.started_at >= start]
    ids = [s.id for s in in_window]
    stints = defaultdict(list)
    if ids:
        for stint in db.session.scalars(select(SwarmStint).where(SwarmStint.swarm_id.in_(ids))):
            stints[stint.swarm_id].append(stint)

    by_week = []
    for week_start in weeks:
        week_end = week_start + timedelta(days=7)
        counts = Counter(s.type for s in in_window if week_start <= s.started_at < week_end)
        by_week.append({"week": week_start.date().isoformat(),
                        "types": {t: counts.get(t, 0) for t in SWARM_TYPES}})

    first_expert = [(s.first_expert_at - s.started_at).total_seconds() / 60
                    for s in in_window if s.first_expert_at]
    ended = [(s.ended_at - s.started_at).total_seconds() / DAY
             for s in in_window if s.ended_at and s.status != "open"]
    people = [len({st.user_id for st in stints[s.id]}) for s in in_window]

    # A finished card counts as swarmed if a swarm on it started before it finished.
    swarm_starts = defaultdict(list)
    for s in swarms:
        swarm_starts[s.card_id].append(s.started_at)
    swarmed, others = [], []
    for card_id, cycle_days, finished_at in finished:
        was_swarmed = any(t <= finished_at for t in swarm_starts.get(card_id, ()))
        (swarmed if was_swarmed else others).append(cycle_days)

    skills = Counter(skill for s in in_window for skill in (s.skills or []))
    return {
        "total": len(in_window),
        "by_type": {t: sum(1 for s in in_window if s.type == t) for t in SWARM_TYPES},
        "by_week": by_week,
        "outcomes": dict(Counter(s.status for s in in_window)),
        "minutes_to_first_expert": _stats(first_expert),
        "duration_days": _stats(ended),
        "people_per_swarm": _stats([float(p) for p in people]),
        "share_of_finished_swarmed": _round(len(swarmed) / len(finished)) if finished else None,
        "cycle_time_swarmed": _stats(swarmed),
        "cycle_time_others": _stats(others),
        "skills_requested": [{"skill": k, "swarms": n} for k, n in skills.most_common(10)],
        "contribution_by_team": _contribution(in_window, stints),
    }


def _contribution(swarms: list[Swarm], stints: dict) -> list[dict]:
    """Swarms helped in (as expert) per team; people in no team are counted together."""
    helpers: dict[int, set[int]] = defaultdict(set)  # user -> swarms helped in
    for swarm in swarms:
        for stint in stints[swarm.id]:
            if stint.role == "expert":
                helpers[stint.user_id].add(swarm.id)
    if not helpers:
        return []
    teams = defaultdict(set)
    for user_id, name in db.session.execute(
        select(TeamMember.user_id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id.in_(list(helpers)))
    ):
        teams[user_id].add(name)
    totals: dict[str, dict] = defaultdict(lambda: {"swarms": set(), "people": set()})
    for user_id, helped in helpers.items():
        for team in teams.get(user_id) or {"No team"}:
            totals[team]["swarms"] |= helped
            totals[team]["people"].add(user_id)
    rows = [{"team": team, "swarms": len(t["swarms"]), "people": len(t["people"])}
            for team, t in totals.items()]
    return sorted(rows, key=lambda r: (-r["swarms"], r["team"]))
