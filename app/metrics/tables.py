"""Each chart's data as a table (header and rows) for its CSV download: the report's own numbers."""

import csv
import io

from app.swarms.models import SWARM_TYPES
from app.text import spreadsheet_safe


def _percentiles(stats: dict) -> list[list]:
    return [[name, stats.get(name)] for name in ("count", "mean", "p50", "p70", "p85", "p95")]


TABLES = {
    "cfd": lambda r: (
        ["date", *[c["name"] for c in r["columns"]]],
        [[d["date"], *[d["columns"].get(c["name"], 0) for c in r["columns"]]] for d in r["cfd"]],
    ),
    "cycle-time": lambda r: (
        [
            "card",
            "title",
            "type",
            "lane",
            "started_at",
            "finished_at",
            "finished_on",
            "cycle_time_days",
        ],
        [
            [
                f["card"],
                f["title"],
                f["type"],
                f["lane"],
                f["started_at"],
                f["finished_at"],
                f["finished_on"],
                f["cycle_time_days"],
            ]
            for f in r["finished"]
        ],
    ),
    "lead-time": lambda r: (
        [
            "card",
            "title",
            "type",
            "lane",
            "created_at",
            "finished_at",
            "finished_on",
            "lead_time_days",
        ],
        [
            [
                f["card"],
                f["title"],
                f["type"],
                f["lane"],
                f["created_at"],
                f["finished_at"],
                f["finished_on"],
                f["lead_time_days"],
            ]
            for f in r["finished"]
        ],
    ),
    "cycle-time-histogram": lambda r: (
        ["days", "cards"],
        [[b["days"], b["cards"]] for b in r["cycle_time"]["histogram"]],
    ),
    "lead-time-histogram": lambda r: (
        ["days", "cards"],
        [[b["days"], b["cards"]] for b in r["lead_time"]["histogram"]],
    ),
    "percentiles": lambda r: (
        ["measure", "cycle_time_days", "lead_time_days"],
        [
            [c[0], c[1], lt[1]]
            for c, lt in zip(
                _percentiles(r["cycle_time"]), _percentiles(r["lead_time"]), strict=True
            )
        ],
    ),
    "throughput": lambda r: (
        ["date", "finished"],
        [[d["date"], d["count"]] for d in r["throughput"]["per_day"]],
    ),
    "throughput-histogram": lambda r: (
        ["finished_in_a_day", "days"],
        [[b["count"], b["days"]] for b in r["throughput"]["histogram"]],
    ),
    "wip": lambda r: (["date", "wip"], [[d["date"], d["wip"]] for d in r["wip_per_day"]]),
    "aging-wip": lambda r: (
        ["card", "title", "column", "age_days", "blocked"],
        [[a["card"], a["title"], a["column"], a["age_days"], a["blocked"]] for a in r["aging_wip"]],
    ),
    "flow-efficiency": lambda r: (
        ["card", "title", "cycle_time_days", "active_days", "wait_days", "flow_efficiency"],
        [
            [
                f["card"],
                f["title"],
                f["cycle_time_days"],
                f["active_days"],
                f["wait_days"],
                f["flow_efficiency"],
            ]
            for f in r["finished"]
        ],
    ),
    "value-stream": lambda r: (
        ["column", "kind", "cards", "avg_days", "avg_blocked_days"],
        [
            [s["column"], s["kind"], s["cards"], s["avg_days"], s["avg_blocked_days"]]
            for s in r["value_stream"]["steps"]
        ],
    ),
    "blocked": lambda r: (
        ["reason", "count", "days"],
        [[b["reason"], b["count"], b["days"]] for b in r["blocked"]],
    ),
    "swarms": lambda r: (
        ["week", *SWARM_TYPES],
        [[w["week"], *(w["types"][t] for t in SWARM_TYPES)] for w in r["swarms"]["by_week"]],
    ),
    "littles-law": lambda r: (
        ["avg_wip", "throughput_per_day", "avg_cycle_time_days", "expected_wip", "ratio"],
        [
            [
                r["littles_law"][k]
                for k in (
                    "avg_wip",
                    "throughput_per_day",
                    "avg_cycle_time_days",
                    "expected_wip",
                    "ratio",
                )
            ]
        ],
    ),
}


def forecast_table(result: dict) -> tuple[list, list]:
    if result["mode"] == "how_many":
        return (
            ["confidence", "items_by_" + result["by"]],
            [[row["confidence"], row["items"]] for row in result["results"]],
        )
    return (
        ["confidence", "date", "days"],
        [[row["confidence"], row["date"], row["days"]] for row in result["results"]],
    )


def to_csv(header: list, rows: list) -> str:
    """CSV text; None becomes an empty cell, booleans read true/false, text that looks like a
    formula is quoted (app/text.py)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([
            "" if v is None else str(v).lower() if isinstance(v, bool) else spreadsheet_safe(v)
            for v in row
        ])
    return out.getvalue()
