"""Flow metrics of a board over a window, computed from its event log (domain.md, "Flow metrics").

`board_metrics` returns the documented JSON contract (docs/api.md, "Metrics API"); the metrics page,
its CSV downloads and `GET /api/v1/boards/<KEY>/metrics` all show these same numbers.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.boards.models import Board
from app.cards.age import DAY, days_between
from app.cards.models import CARD_TYPES
from app.clock import utcnow
from app.errors import Invalid
from app.metrics.flow import percentile_nearest_rank
from app.metrics.swarming import swarm_metrics
from app.metrics.timeline import CardFilter, CardFlow, Step, Timeline, board_lanes, board_steps

DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 3 * 366
PERCENTILES = (50, 70, 85, 95)
FILTER_NAMES = ("from", "to", "lane", "type", "tag")


# --- days in the board's time zone -----------------------------------------------------------


def board_zone(board: Board) -> ZoneInfo:
    return ZoneInfo(board.timezone or "UTC")


def board_today(board: Board, now: datetime | None = None) -> date:
    now = now or utcnow()
    return now.replace(tzinfo=UTC).astimezone(board_zone(board)).date()


def day_start(board: Board, day: date) -> datetime:
    """The UTC instant (naive, as stored) at which `day` begins on the board's clock."""
    local = datetime.combine(day, time(), tzinfo=board_zone(board))
    return local.astimezone(UTC).replace(tzinfo=None)


def local_day(board: Board, moment: datetime) -> date:
    return moment.replace(tzinfo=UTC).astimezone(board_zone(board)).date()


def days_of(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# --- the query -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricsQuery:
    """A date window (board-local days, both ends included) and the card filters."""

    start: date
    end: date
    lane: str | None = None
    lane_id: int | None = None
    type: str | None = None
    tag: str | None = None

    @classmethod
    def from_args(
        cls,
        board: Board,
        args: Mapping,
        *,
        now: datetime | None = None,
        ignore: Iterable[str] = (),
    ) -> "MetricsQuery":
        """Read `from`, `to` (ISO dates), `lane`, `type`, `tag`; refuse anything else."""
        unknown = sorted(set(args) - set(FILTER_NAMES) - set(ignore))
        if unknown:
            raise Invalid(
                f"Unknown filter {unknown[0]!r}; metrics filter by {', '.join(FILTER_NAMES)}."
            )
        today = board_today(board, now)
        end = _iso_date(args.get("to"), "to") or today
        start = _iso_date(args.get("from"), "from") or end - timedelta(days=DEFAULT_WINDOW_DAYS - 1)
        if start > today:
            raise Invalid(f"The window starts on {start}, after today ({today}): it is empty.")
        if start > end:
            raise Invalid(f"The window is inverted: 'from' ({start}) is after 'to' ({end}).")
        end = min(end, today)
        if (end - start).days + 1 > MAX_WINDOW_DAYS:
            raise Invalid(f"A window can span at most {MAX_WINDOW_DAYS} days.")
        lane_name, lane_id = _lane(board, args.get("lane"))
        card_type = (args.get("type") or "").strip() or None
        if card_type is not None and card_type not in CARD_TYPES:
            raise Invalid(
                f"Unknown card type {card_type!r}; choose one of {', '.join(CARD_TYPES)}."
            )
        tag = (args.get("tag") or "").strip() or None
        return cls(start, end, lane_name, lane_id, card_type, tag)

    def as_args(self) -> dict:
        """The query as URL parameters (for links and forms)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        args.update(
            {k: v for k, v in (("lane", self.lane), ("type", self.type), ("tag", self.tag)) if v}
        )
        return args

    @property
    def cards(self) -> CardFilter:
        return CardFilter(self.lane_id, self.type, self.tag)


def _iso_date(value, name: str) -> date | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(f"{name!r} must be a date like 2026-11-25 (got {value!r}).") from None


def _lane(board: Board, value) -> tuple[str | None, int | None]:
    value = (value or "").strip()
    if not value:
        return None, None
    for lane in sorted(board_lanes(board).values(), key=lambda lane: lane.position):
        if value.lower() in (lane.name.lower(), lane.class_of_service, str(lane.id)):
            return lane.name, lane.id
    names = ", ".join(lane.name for lane in board_lanes(board).values())
    raise Invalid(f"Board {board.key} has no lane {value!r}; its lanes are {names}.")


# --- the report ------------------------------------------------------------------------------


def board_metrics(board: Board, query: MetricsQuery, now: datetime | None = None) -> dict:
    """Every flow metric of `board` over the query's window, from the event log."""
    now = now or utcnow()
    steps = board_steps(board)
    window_start = day_start(board, query.start)
    window_end = min(day_start(board, query.end + timedelta(days=1)), now)
    days = days_of(query.start, query.end)
    boundaries = [min(day_start(board, d + timedelta(days=1)), now) for d in days]

    timeline = Timeline(board, steps, query.cards)
    timeline.load_cards(settled_before=window_start)
    cfd, wip_per_day = _replay(timeline, boundaries)
    cards = list(timeline.cards.values())

    finished = [
        c for c in cards if c.finished_at is not None and window_start <= c.finished_at < window_end
    ]
    finished.sort(key=lambda c: c.finished_at)
    flows = [_card_flow(c, steps) for c in finished]
    cycle = [days_between(c.started_at or c.finished_at, c.finished_at) for c in finished]
    lead = [days_between(c.created_at, c.finished_at) for c in finished]
    cycle_stats = duration_stats(cycle)

    per_day = defaultdict(int)
    for card in finished:
        per_day[local_day(board, card.finished_at)] += 1
    throughput = [{"date": d.isoformat(), "count": per_day[d]} for d in days]
    active = sum(f["active_days"] for f in flows)
    wait = sum(f["wait_days"] for f in flows)
    live = [s for s in sorted(steps.values(), key=lambda s: s.position) if not s.removed]

    return {
        "board": board.key,
        "window": {"from": query.start.isoformat(), "to": query.end.isoformat(), "days": len(days)},
        "filters": {"lane": query.lane, "type": query.type, "tag": query.tag},
        "timezone": board.timezone,
        "columns": [{"name": s.name, "kind": s.kind, "position": s.position} for s in live],
        "wip": sum(1 for c in cards if c.in_progress),
        "wip_per_day": [
            {"date": d.isoformat(), "wip": n} for d, n in zip(days, wip_per_day, strict=False)
        ],
        "throughput": {
            "total": len(finished),
            "mean_per_day": round(len(finished) / len(days), 4),
            "per_day": throughput,
            "histogram": _throughput_histogram(throughput),
        },
        "cycle_time": cycle_stats,
        "lead_time": duration_stats(lead),
        "sle_days": cycle_stats["p85"],
        "flow_efficiency": _ratio(active, active + wait),
        "finished": [
            {
                "card": c.key,
                "title": c.title,
                "type": c.type,
                "lane": _lane_name(board, c.lane_id),
                "created_at": c.created_at.isoformat(),
                "started_at": (c.started_at or c.finished_at).isoformat(),
                "finished_at": c.finished_at.isoformat(),
                "finished_on": local_day(board, c.finished_at).isoformat(),
                "cycle_time_days": _days(ct),
                "lead_time_days": _days(lt),
                **flow,
            }
            for c, ct, lt, flow in zip(finished, cycle, lead, flows, strict=False)
        ],
        "cfd": [
            {"date": d.isoformat(), "columns": {s.name: counts.get(s.id, 0) for s in live}}
            for d, counts in zip(days, cfd, strict=False)
        ],
        "aging_wip": _aging(cards, steps, window_end),
        "value_stream": _value_stream(finished, steps, live, active, wait),
        "blocked": _blocker_clusters(cards, window_start, window_end),
        "littles_law": _littles_law(wip_per_day, len(finished), len(days), cycle),
        "swarms": swarm_metrics(
            board,
            set(timeline.cards),
            (window_start, window_end),
            [day_start(board, d) for d in days[::7]],
            [(c.id, ct, c.finished_at) for c, ct in zip(finished, cycle, strict=True)],
        ),
    }


def _replay(timeline: Timeline, boundaries: list[datetime]):
    """Replay the log once, sampling column counts and WIP at the end of each day."""
    counts: dict[int, int] = defaultdict(int)
    for card_id in timeline.settled:  # at rest before the window: where they stand
        card = timeline.cards[card_id]
        if card.on_board:
            counts[card.column_id] += 1
    wip = 0
    cfd, wip_per_day = [], []
    pending = iter(boundaries)
    boundary = next(pending, None)
    for card, kind, at, column_id, reason in timeline.events(boundaries[-1]):
        while boundary is not None and at >= boundary:
            cfd.append(dict(counts))
            wip_per_day.append(wip)
            boundary = next(pending, None)
        was_in_progress, old_column = card.in_progress, card.column_id
        if card.on_board:
            counts[old_column] -= 1
        timeline.apply(card, kind, at, column_id, reason)
        if card.on_board:
            counts[card.column_id] += 1
        wip += card.in_progress - was_in_progress
    while boundary is not None:
        cfd.append(dict(counts))
        wip_per_day.append(wip)
        boundary = next(pending, None)
    return cfd, wip_per_day


def duration_stats(values: list[float]) -> dict:
    """Count, mean, the chart percentiles (nearest rank) and a whole-day histogram."""
    stats = {"count": len(values), "mean": _days(sum(values) / len(values)) if values else None}
    for p in PERCENTILES:
        stats[f"p{p}"] = _days(percentile_nearest_rank(values, p))
    bins = defaultdict(int)
    for value in values:
        bins[int(value)] += 1
    stats["histogram"] = (
        [{"days": d, "cards": bins[d]} for d in range(max(bins) + 1)] if bins else []
    )
    return stats


def _card_flow(card: CardFlow, steps: dict[int, Step]) -> dict:
    """Active and wait time between start and finish; blocked time counts as wait."""
    active = wait = 0.0
    for step, seconds, blocked in _stays_in_flow(card, steps):
        if step.kind == "active":
            active += seconds - blocked
            wait += blocked
        elif step.kind == "queue":
            wait += seconds
    return {
        "active_days": _days(active / DAY),
        "wait_days": _days(wait / DAY),
        "flow_efficiency": _ratio(active, active + wait),
    }


def _stays_in_flow(card: CardFlow, steps: dict[int, Step]):
    """(step, seconds there, seconds blocked there) for each stay between start and finish."""
    start, finish = card.started_at or card.finished_at, card.finished_at
    stays = card.stays
    for index, (column_id, entered) in enumerate(stays):
        left = stays[index + 1][1] if index + 1 < len(stays) else finish
        step = steps.get(column_id)
        begin, end = max(entered, start), min(left, finish)
        if step is None or end <= begin:
            continue
        blocked = sum(_overlap(b.start, b.end or finish, begin, end) for b in card.blocks)
        yield step, (end - begin).total_seconds(), blocked


def _overlap(a_start, a_end, b_start, b_end) -> float:
    return max(0.0, (min(a_end, b_end) - max(a_start, b_start)).total_seconds())


def _value_stream(finished, steps, live, active: float, wait: float) -> dict:
    seconds, blocked, visitors = defaultdict(float), defaultdict(float), defaultdict(set)
    for card in finished:
        for step, spent, blocked_there in _stays_in_flow(card, steps):
            seconds[step.id] += spent
            blocked[step.id] += blocked_there
            visitors[step.id].add(card.id)
    result = []
    for step in live:
        if step.kind not in ("queue", "active"):
            continue
        n = len(visitors[step.id])
        result.append(
            {
                "column": step.name,
                "kind": step.kind,
                "cards": n,
                "avg_days": _days(seconds[step.id] / n / DAY) if n else None,
                "avg_blocked_days": _days(blocked[step.id] / n / DAY) if n else None,
            }
        )
    return {
        "steps": result,
        "active_days": _days(active),
        "wait_days": _days(wait),
        "flow_efficiency": _ratio(active, active + wait),
    }


def _aging(cards: list[CardFlow], steps: dict[int, Step], moment: datetime) -> list[dict]:
    aging = [
        {
            "card": c.key,
            "title": c.title,
            "column": steps[c.column_id].name if c.column_id in steps else None,
            "age_days": _days(days_between(c.started_at, moment)),
            "blocked": bool(c.blocks) and c.blocks[-1].end is None,
        }
        for c in cards
        if c.in_progress
    ]
    return sorted(aging, key=lambda a: -a["age_days"])


def _blocker_clusters(cards: list[CardFlow], start: datetime, end: datetime) -> list[dict]:
    """Blocked time per reason, clipped to the window; every block overlapping it counts once."""
    count, seconds = defaultdict(int), defaultdict(float)
    for card in cards:
        for block in card.blocks:
            block_end = block.end or end
            if block_end <= start or block.start >= end:
                continue
            count[block.reason] += 1
            seconds[block.reason] += _overlap(block.start, block_end, start, end)
    clusters = [{"reason": r, "count": count[r], "days": _days(seconds[r] / DAY)} for r in count]
    return sorted(clusters, key=lambda c: (-c["days"], -c["count"], c["reason"]))


def _littles_law(wip_per_day: list[int], finished: int, days: int, cycle: list[float]) -> dict:
    avg_wip = sum(wip_per_day) / days if days else 0.0
    per_day = finished / days if days else 0.0
    avg_cycle = sum(cycle) / len(cycle) if cycle else None
    expected = per_day * avg_cycle if avg_cycle is not None else None
    return {
        "avg_wip": _days(avg_wip),
        "throughput_per_day": _days(per_day),
        "avg_cycle_time_days": _days(avg_cycle),
        "expected_wip": _days(expected),
        "ratio": _days(avg_wip / expected) if expected else None,
    }


def _throughput_histogram(per_day: list[dict]) -> list[dict]:
    bins = defaultdict(int)
    for day in per_day:
        bins[day["count"]] += 1
    top = max(bins) if bins else 0
    return [{"count": k, "days": bins[k]} for k in range(top + 1)]


def _lane_name(board: Board, lane_id: int) -> str | None:
    lane = next((ln for ln in board.lanes if ln.id == lane_id), None)
    return lane.name if lane else None


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None
