"""Monte Carlo forecasts from the board's own daily throughput (domain.md, "Monte Carlo").

Each trial samples one day's throughput uniformly from the basis window (zero days included)
for every simulated day, starting the day after the forecast is made.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from app.boards.models import Board
from app.clock import utcnow
from app.errors import Invalid
from app.metrics.services import FILTER_NAMES, PERCENTILES, MetricsQuery, board_metrics, board_today
from app.validation import whole_number

DEFAULT_TRIALS = 10_000
MAX_TRIALS = 100_000
MIN_TRIALS = 100
DEFAULT_BASIS_DAYS = 30
MAX_BASIS_DAYS = 365
MAX_HORIZON_DAYS = 3 * 365
MAX_ITEMS = 100_000
FORECAST_ARGS = ("how_many_by", "when", "trials", "seed", "basis_days")


@dataclass(frozen=True)
class ForecastQuery:
    """`how_many_by` (a date) or `when` (a number of items), with the trial settings."""

    cards: MetricsQuery  # the filters, and the basis window as its dates
    how_many_by: date | None = None
    when: int | None = None
    trials: int = DEFAULT_TRIALS
    seed: int | None = None

    @classmethod
    def from_args(
        cls, board: Board, args: Mapping, *, now: datetime | None = None, ignore=()
    ) -> "ForecastQuery":
        unknown = sorted(set(args) - set(FORECAST_ARGS) - set(FILTER_NAMES) - set(ignore))
        if unknown:
            raise Invalid(
                f"Unknown forecast parameter {unknown[0]!r}; use how_many_by=DATE or when=N, "
                "with trials, seed, basis_days and the lane/type/tag filters."
            )
        today = board_today(board, now)
        by_text, when_text = _given(args, "how_many_by"), _given(args, "when")
        if (by_text is None) == (when_text is None):
            raise Invalid("Ask one question: how_many_by=DATE or when=N (number of items).")
        how_many_by = when = None
        if by_text is not None:
            try:
                how_many_by = date.fromisoformat(by_text)
            except ValueError:
                raise Invalid(
                    f"how_many_by must be a date like 2026-12-31 (got {by_text!r})."
                ) from None
            if how_many_by <= today:
                raise Invalid(
                    f"how_many_by must be after today ({today}); the forecast starts " "tomorrow."
                )
            if (how_many_by - today).days > MAX_HORIZON_DAYS:
                raise Invalid(f"A forecast reaches at most {MAX_HORIZON_DAYS} days ahead.")
        else:
            when = whole_number(when_text, "when (number of items)", minimum=1, maximum=MAX_ITEMS)
        trials = whole_number(
            _given(args, "trials") or DEFAULT_TRIALS,
            "trials",
            minimum=MIN_TRIALS,
            maximum=MAX_TRIALS,
        )
        seed_text = _given(args, "seed")
        seed = None if seed_text is None else whole_number(seed_text, "seed", maximum=2**32 - 1)
        basis_days = whole_number(
            _given(args, "basis_days") or DEFAULT_BASIS_DAYS,
            "basis_days",
            minimum=1,
            maximum=MAX_BASIS_DAYS,
        )
        filters = {k: v for k, v in args.items() if k in ("lane", "type", "tag")}
        basis_end = today - timedelta(days=1)
        filters.update(
            {
                "from": (basis_end - timedelta(days=basis_days - 1)).isoformat(),
                "to": basis_end.isoformat(),
            }
        )
        return cls(MetricsQuery.from_args(board, filters, now=now), how_many_by, when, trials, seed)


def _given(args: Mapping, name: str) -> str | None:
    value = args.get(name)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def forecast(board: Board, query: ForecastQuery, now: datetime | None = None) -> dict:
    """Run the Monte Carlo trials and return the percentile table and the histogram."""
    now = now or utcnow()
    basis = board_metrics(board, query.cards, now=now)["throughput"]
    samples = np.array([day["count"] for day in basis["per_day"]], dtype=np.int64)
    if samples.sum() == 0:
        raise Invalid(
            f"No cards finished between {query.cards.start} and {query.cards.end}, so there is "
            "no throughput to forecast from; choose a longer basis window."
        )
    rng = np.random.default_rng(query.seed)
    today = board_today(board, now)
    result = {
        "board": board.key,
        "trials": query.trials,
        "seed": query.seed,
        "start": (today + timedelta(days=1)).isoformat(),
        "basis": {
            "from": query.cards.start.isoformat(),
            "to": query.cards.end.isoformat(),
            "days": len(samples),
            "total": int(samples.sum()),
            "mean_per_day": round(float(samples.mean()), 4),
        },
        "filters": {"lane": query.cards.lane, "type": query.cards.type, "tag": query.cards.tag},
    }
    if query.how_many_by is not None:
        days = (query.how_many_by - today).days
        result.update(mode="how_many", by=query.how_many_by.isoformat(), days=days)
        result.update(how_many(samples, days, query.trials, rng))
    else:
        result.update(mode="when", items=query.when)
        result.update(when_done(samples, query.when, query.trials, rng, today))
    return result


def how_many(samples: np.ndarray, days: int, trials: int, rng) -> dict:
    """Items finished over `days` simulated days; at confidence c, the total reached or
    exceeded in c% of trials."""
    totals = np.sort(rng.choice(samples, size=(trials, days)).sum(axis=1))
    results = []
    for c in PERCENTILES:
        # the largest v with at least c% of trials >= v: the (n - ceil(c*n/100))-th smallest
        index = trials - -(-c * trials // 100)
        results.append({"confidence": c, "items": int(totals[index])})
    values, counts = np.unique(totals, return_counts=True)
    histogram = [{"items": int(v), "trials": int(k)} for v, k in zip(values, counts, strict=False)]
    return {"results": results, "histogram": histogram}


def when_done(samples: np.ndarray, items: int, trials: int, rng, today: date) -> dict:
    """The first simulated day each trial's running total reaches `items`; at confidence c,
    the day by which c% of trials have finished."""
    finish = np.full(trials, np.iinfo(np.int64).max, dtype=np.int64)
    running = np.zeros(trials, dtype=np.int64)
    pending = np.arange(trials)
    mean = float(samples.mean())
    elapsed, block = 0, max(8, int(items / mean * 1.25) + 8)
    while pending.size and elapsed < MAX_HORIZON_DAYS:
        block = min(block, MAX_HORIZON_DAYS - elapsed)
        totals = running[pending, None] + np.cumsum(
            rng.choice(samples, size=(pending.size, block)), axis=1
        )
        reached = totals[:, -1] >= items
        first = np.argmax(totals >= items, axis=1)
        finish[pending[reached]] = elapsed + first[reached] + 1
        running[pending] = totals[:, -1]
        pending = pending[~reached]
        elapsed += block
    ordered = np.sort(finish)
    results = []
    for c in PERCENTILES:
        day = int(ordered[-(-c * trials // 100) - 1])
        beyond = day > MAX_HORIZON_DAYS
        results.append(
            {
                "confidence": c,
                "days": None if beyond else day,
                "date": None if beyond else (today + timedelta(days=day)).isoformat(),
            }
        )
    done = ordered[ordered <= MAX_HORIZON_DAYS]
    values, counts = np.unique(done, return_counts=True)
    histogram = [
        {"days": int(d), "date": (today + timedelta(days=int(d))).isoformat(), "trials": int(k)}
        for d, k in zip(values, counts, strict=False)
    ]
    return {"results": results, "histogram": histogram, "unfinished_trials": int(pending.size)}
