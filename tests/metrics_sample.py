"""A realistic report in the shape board_metrics() returns, for rendering tests we control."""

import math
import random
from datetime import date, datetime, timedelta

COLUMNS = [
    ("Reported", "backlog"),
    ("Acknowledged", "queue"),
    ("Investigating", "active"),
    ("Awaiting specialist", "queue"),
    ("Specialist fixing", "active"),
    ("Ready to deploy", "queue"),
    ("Deploying", "active"),
    ("Verifying", "active"),
    ("Resolved", "queue"),
    ("Improvement review", "active"),
    ("Closed", "done"),
]
FIRST = date(2026, 10, 27)
DAYS = 30


def nearest_rank(values, p):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] if ordered else None


def stats(values, key):
    if not values:
        return {
            "count": 0,
            "mean": None,
            "p50": None,
            "p70": None,
            "p85": None,
            "p95": None,
            "histogram": [],
        }
    bins = [0] * (int(max(values)) + 1)
    for v in values:
        bins[int(v)] += 1
    return {
        "count": len(values),
        "mean": round(sum(values) / len(values), 3),
        **{f"p{p}": nearest_rank(values, p) for p in (50, 70, 85, 95)},
        "histogram": [{"days": k, key: n} for k, n in enumerate(bins)],
    }


def sample_report(finishes: bool = True) -> dict:
    rng = random.Random(5)
    days = [FIRST + timedelta(days=i) for i in range(DAYS)]
    finished = []
    if finishes:
        for n in range(40):
            day = days[rng.randrange(DAYS)]
            cycle = round(rng.lognormvariate(0.8, 0.7), 2)
            lead = round(cycle + rng.uniform(0, 2), 2)
            active = round(cycle * rng.uniform(0.1, 0.6), 2)
            at = datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.randint(7, 18))
            finished.append(
                {
                    "card": f"SUP-{100 + n}",
                    "title": f"Sample incident {n}",
                    "type": rng.choice(["incident", "service_request", "change"]),
                    "lane": "Standard",
                    "created_at": (at - timedelta(days=lead)).isoformat(),
                    "started_at": (at - timedelta(days=cycle)).isoformat(),
                    "finished_at": at.isoformat(),
                    "finished_on": day.isoformat(),
                    "cycle_time_days": cycle,
                    "lead_time_days": lead,
                    "active_days": active,
                    "wait_days": round(cycle - active, 2),
                    "flow_efficiency": round(active / cycle, 3) if cycle else None,
                }
            )
    finished.sort(key=lambda f: f["finished_at"])
    per_day = [
        {"date": d.isoformat(), "count": sum(f["finished_on"] == d.isoformat() for f in finished)}
        for d in days
    ]
    top = max(p["count"] for p in per_day)
    histogram = [
        {"count": k, "days": sum(p["count"] == k for p in per_day)} for k in range(top + 1)
    ]
    cycle = stats([f["cycle_time_days"] for f in finished], "cards")
    lead = stats([f["lead_time_days"] for f in finished], "cards")
    names = [name for name, _ in COLUMNS]
    closed = 50
    cfd = []
    for i, d in enumerate(days):
        closed += per_day[i]["count"]
        counts = {name: 1 + (i * 7 + k * 3) % 4 for k, name in enumerate(names)}
        counts["Reported"] = 6 + i % 5
        counts["Closed"] = closed
        cfd.append({"date": d.isoformat(), "columns": counts})
    wip_per_day = [{"date": d.isoformat(), "wip": 12 + (i * 5) % 7} for i, d in enumerate(days)]
    aging = [
        {
            "card": f"SUP-{200 + k}",
            "title": f"Open card {k}",
            "column": names[1 + k % 9],
            "age_days": round(0.3 + (k * 1.7) % 11, 2),
            "blocked": k % 5 == 0,
        }
        for k in range(17)
    ]
    active_total = round(sum(f["active_days"] for f in finished), 2)
    wait_total = round(sum(f["wait_days"] for f in finished), 2)
    efficiency = active_total / (active_total + wait_total) if finished else None
    avg_wip = sum(w["wip"] for w in wip_per_day) / DAYS
    total = len(finished)
    rate = round(total / DAYS, 3)
    expected = rate * cycle["mean"] if finished else None
    return {
        "board": "SUP",
        "window": {"from": days[0].isoformat(), "to": days[-1].isoformat(), "days": DAYS},
        "filters": {"lane": None, "type": None, "tag": None},
        "timezone": "Europe/Paris",
        "columns": [{"name": n, "kind": k, "position": i} for i, (n, k) in enumerate(COLUMNS)],
        "wip": 17,
        "wip_per_day": wip_per_day,
        "throughput": {
            "total": total,
            "mean_per_day": rate,
            "per_day": per_day,
            "histogram": histogram,
        },
        "cycle_time": cycle,
        "lead_time": lead,
        "sle_days": cycle["p85"],
        "flow_efficiency": efficiency,
        "finished": finished,
        "cfd": cfd,
        "aging_wip": aging,
        "value_stream": {
            "steps": [
                {
                    "column": n,
                    "kind": k,
                    "cards": 30 if finished else 0,
                    "avg_days": round(0.4 + i * 0.15, 2) if finished else None,
                    "avg_blocked_days": 0.1 if k == "queue" else 0.0,
                }
                for i, (n, k) in enumerate(COLUMNS)
                if k in ("queue", "active")
            ],
            "active_days": active_total,
            "wait_days": wait_total,
            "flow_efficiency": efficiency,
        },
        "blocked": [
            {"reason": "Waiting for vendor", "count": 4, "days": 6.5},
            {"reason": "Waiting for the customer to confirm", "count": 7, "days": 3.25},
            {"reason": "Change freeze", "count": 1, "days": 1.0},
        ]
        if finishes
        else [],
        "littles_law": {
            "avg_wip": round(avg_wip, 2),
            "throughput_per_day": rate,
            "avg_cycle_time_days": cycle["mean"],
            "expected_wip": round(expected, 2) if expected is not None else None,
            "ratio": round(avg_wip / expected, 2) if expected else None,
        },
        "swarms": {
            "total": 3 if finishes else 0,
            "by_type": {"dispatch": 1, "backlog": 2, "drop_in": 0, "andon": 0},
            "by_week": [{"week": "2026-11-02",
                         "types": {"dispatch": 1, "backlog": 2, "drop_in": 0, "andon": 0}}],
            "outcomes": {"resolved": 2, "open": 1},
            "minutes_to_first_expert": {"count": 2, "p50": 25.0, "p85": 70.0, "mean": 47.5},
            "duration_days": {"count": 2, "p50": 0.5, "p85": 1.5, "mean": 1.0},
            "people_per_swarm": {"count": 3, "p50": 2.0, "p85": 3.0, "mean": 2.33},
            "share_of_finished_swarmed": 0.1,
            "cycle_time_swarmed": {"count": 2, "p50": 3.0, "p85": 4.0, "mean": 3.5},
            "cycle_time_others": {"count": 18, "p50": 2.0, "p85": 6.0, "mean": 2.8},
            "skills_requested": [{"skill": "dns", "swarms": 2}, {"skill": "ldap", "swarms": 1}],
            "contribution_by_team": [{"team": "Network", "swarms": 2, "people": 1}],
        },
    }


def sample_forecast(mode: str = "how_many") -> dict:
    base = {
        "board": "SUP",
        "mode": mode,
        "trials": 10000,
        "seed": 7,
        "start": "2026-11-26",
        "basis": {
            "from": "2026-10-27",
            "to": "2026-11-25",
            "days": 30,
            "total": 40,
            "mean_per_day": 1.33,
        },
    }
    if mode == "how_many":
        return {
            **base,
            "by": "2026-12-31",
            "days": 36,
            "results": [
                {"confidence": 50, "items": 48},
                {"confidence": 70, "items": 45},
                {"confidence": 85, "items": 42},
                {"confidence": 95, "items": 38},
            ],
            "histogram": [
                {"items": n, "trials": int(1000 * math.exp(-(((n - 48) / 6) ** 2)))}
                for n in range(30, 67)
            ],
        }
    return {
        **base,
        "items": 20,
        "results": [
            {"confidence": 50, "date": "2026-12-10", "days": 15},
            {"confidence": 70, "date": "2026-12-12", "days": 17},
            {"confidence": 85, "date": "2026-12-14", "days": 19},
            {"confidence": 95, "date": "2026-12-17", "days": 22},
        ],
        "histogram": [
            {
                "date": (date(2026, 11, 26) + timedelta(days=d)).isoformat(),
                "days": d + 1,
                "trials": max(0, 1200 - 90 * abs(d - 14)),
            }
            for d in range(8, 26)
        ],
    }
