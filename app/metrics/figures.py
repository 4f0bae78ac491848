"""Each chart of the metrics page as coordinates, built from the report of board_metrics().

One function per chart; every one returns a dict the matching templates/metrics/_chart_*.html
draws. A chart with nothing to show carries `empty`, a sentence the template prints instead.
"""

from datetime import date, timedelta

from app.metrics.charts import (
    PERCENTILES,
    SLE_PERCENTILE,
    WIDE,
    DayAxis,
    Frame,
    Linear,
    column_colours,
    date_label,
    days_label,
    nice_step,
    nice_ticks,
    number_label,
    percent_label,
    polyline,
    spread_labels,
    step_path,
    value_axis,
    wrap_label,
)

NO_FINISHES = "No finished cards in this window."


def _base(frame: Frame, x_label: str, y_label: str, **more) -> dict:
    return {
        "frame": frame,
        "x_label": x_label,
        "y_label": y_label,
        "x_ticks": [],
        "y_ticks": [],
        "empty": None,
        **more,
    }


def percentile_lines(stats: dict, scale, frame: Frame, sle: bool = True) -> list[dict]:
    """Horizontal lines at the 50/70/85/95th percentiles; labels nudged apart to stay legible."""
    lines = [
        {
            "p": p,
            "value": stats[f"p{p}"],
            "y": scale(stats[f"p{p}"]),
            "sle": sle and p == SLE_PERCENTILE,
        }
        for p in PERCENTILES
        if stats.get(f"p{p}") is not None
    ]
    ordered = sorted(lines, key=lambda line: line["y"])
    for line, label_y in zip(ordered, spread_labels([ln["y"] for ln in ordered], 17), strict=True):
        line["label_y"] = min(label_y, frame.y0 - 2)
        name = f"{line['p']}th"
        if line["sle"]:
            name = f"{line['p']}th SLE"
        line["label"] = f"{name} {days_label(line['value'])} d"
    return lines


def cfd_chart(report: dict) -> dict:
    """Stacked daily counts per column, done at the bottom, then right to left upwards."""
    frame = WIDE
    axis = DayAxis(report["window"], frame, report.get("timezone"))
    colours = column_colours(report["columns"])
    names = [c["name"] for c in report["columns"]]
    days = report["cfd"]
    chart = _base(
        frame,
        f"Date ({axis.label}), end of day",
        "Cards",
        x_ticks=axis.ticks(),
        legend=[],
        bands=[],
        days=[],
        hidden_done=0,
    )
    # Cards finished before the window would dwarf every other band: draw only what is added.
    done = [c["name"] for c in report["columns"] if c["kind"] == "done"]
    hidden = {n: min((d["columns"].get(n, 0) for d in days), default=0) for n in done}
    chart["hidden_done"] = sum(hidden.values())
    if chart["hidden_done"]:
        chart["y_label"] = f"Cards (beyond {chart['hidden_done']} done before)"
    top = max((sum(d["columns"].values()) for d in days), default=0) - chart["hidden_done"]
    if not days or top <= 0:
        chart["empty"] = "No cards were on the board in this window."
        return chart
    scale, chart["y_ticks"] = value_axis(frame, top, integer=True)
    below = [0] * len(days)
    for name in reversed(names):
        counts = [d["columns"].get(name, 0) - hidden.get(name, 0) for d in days]
        above = [b + c for b, c in zip(below, counts, strict=True)]
        xs = [axis.centre(d["date"]) for d in days]
        if len(xs) == 1:  # a one-day window: a bar rather than a line of no width
            xs = [axis.left(days[0]["date"]) + 2]
            upper = [(xs[0], scale(above[0])), (xs[0] + axis.band - 4, scale(above[0]))]
            lower = [(xs[0] + axis.band - 4, scale(below[0])), (xs[0], scale(below[0]))]
        else:
            upper = [(x, scale(v)) for x, v in zip(xs, above, strict=True)]
            lower = [(x, scale(v)) for x, v in reversed(list(zip(xs, below, strict=True)))]
        chart["bands"].append(
            {
                "name": name,
                "colour": colours[name],
                "points": polyline(upper + lower),
                "last": counts[-1],
            }
        )
        below = above
    kinds = {c["name"]: c["kind"] for c in report["columns"]}
    chart["legend"] = [{"name": n, "colour": colours[n], "kind": kinds[n]} for n in names]
    chart["days"] = [
        {
            "x": axis.left(d["date"]),
            "width": axis.band,
            "label": date_label(date.fromisoformat(d["date"])),
            "counts": [(n, d["columns"].get(n, 0)) for n in names],
        }
        for d in days
    ]
    return chart


def scatter_chart(report: dict) -> dict:
    """One dot per finished card at its finish moment and cycle time, with percentile lines."""
    frame = Frame(right=120)
    axis = DayAxis(report["window"], frame, report.get("timezone"))
    stats = report["cycle_time"]
    chart = _base(
        frame,
        f"Finish date ({axis.label})",
        "Cycle time (days)",
        x_ticks=axis.ticks(),
        dots=[],
        lines=[],
    )
    finished = [f for f in report["finished"] if f.get("cycle_time_days") is not None]
    if not finished:
        chart["empty"] = NO_FINISHES
        return chart
    top = max([f["cycle_time_days"] for f in finished] + [stats.get("p95") or 0])
    scale, chart["y_ticks"] = value_axis(frame, top)
    sle = stats.get(f"p{SLE_PERCENTILE}")
    chart["dots"] = [
        {
            "x": axis.at(f.get("finished_at"), f["finished_on"]),
            "y": scale(f["cycle_time_days"]),
            "late": sle is not None and f["cycle_time_days"] > sle,
            "title": f"{f['card']} {f['title']}: {days_label(f['cycle_time_days'])} days, "
            f"finished {date_label(date.fromisoformat(f['finished_on']))}",
        }
        for f in finished
    ]
    chart["lines"] = percentile_lines(stats, scale, frame)
    return chart


def throughput_chart(report: dict) -> dict:
    """A bar per calendar day; a day without finishes keeps a visible stub at zero."""
    frame = Frame(width=1200, height=320, right=130)
    axis = DayAxis(report["window"], frame, report.get("timezone"))
    throughput = report["throughput"]
    chart = _base(
        frame,
        f"Date ({axis.label})",
        "Cards finished per day",
        x_ticks=axis.ticks(),
        bars=[],
        mean=None,
        empty=None if throughput["total"] else NO_FINISHES,
    )
    top = max((d["count"] for d in throughput["per_day"]), default=0)
    scale, chart["y_ticks"] = value_axis(frame, top, integer=True)
    width = max(axis.band * 0.78, 1)
    for day in throughput["per_day"]:
        y = scale(day["count"])
        chart["bars"].append(
            {
                "x": round(axis.centre(day["date"]) - width / 2, 2),
                "width": round(width, 2),
                "y": y,
                "height": round(frame.y0 - y, 2),
                "count": day["count"],
                "title": f"{date_label(date.fromisoformat(day['date']))}: {day['count']} finished",
            }
        )
    if throughput["total"]:
        mean = throughput["mean_per_day"]
        chart["mean"] = {"y": scale(mean), "label": f"mean {number_label(round(mean, 2))}/day"}
    return chart


def histogram_chart(
    bins: list[dict],
    value_key: str,
    count_key: str,
    x_label: str,
    y_label: str,
    unit: str,
    noun: str,
) -> dict:
    """Bars over whole-number bins (bin k covers k to k+1), labelled at the bin's start."""
    frame = Frame()
    chart = _base(frame, x_label, y_label, bars=[], lines=[])
    if not bins or not any(b[count_key] for b in bins):
        chart["empty"] = NO_FINISHES
        return chart
    high = max(b[value_key] for b in bins) + 1
    x = Linear(0, high, frame.x0, frame.x1)
    scale, chart["y_ticks"] = value_axis(frame, max(b[count_key] for b in bins), integer=True)
    every = max(1, round(high / 12))
    chart["x_ticks"] = [{"x": x(k), "label": str(k)} for k in range(0, high + 1, every)]
    for b in bins:
        left, right = x(b[value_key]), x(b[value_key] + 1)
        y = scale(b[count_key])
        chart["bars"].append(
            {
                "x": left + 1,
                "width": max(right - left - 2, 1),
                "y": y,
                "height": round(frame.y0 - y, 2),
                "count": b[count_key],
                "title": f"{b[value_key]} {unit}: {b[count_key]} {noun}",
            }
        )
    chart["x_scale"] = x
    return chart


def distribution_chart(report: dict, key: str, name: str) -> dict:
    """Cycle or lead time in whole-day bins, with the percentile values marked."""
    stats = report[key]
    chart = histogram_chart(
        stats["histogram"],
        "days",
        "cards",
        f"{name} (whole days: 2 = 2.0 to 2.9)",
        "Finished cards",
        "days",
        "cards",
    )
    if chart["empty"]:
        return chart
    x, frame = chart.pop("x_scale"), chart["frame"]
    sle = key == "cycle_time"
    for p in PERCENTILES:
        value = stats.get(f"p{p}")
        if value is not None:
            chart["lines"].append(
                {
                    "x": x(value),
                    "p": p,
                    "sle": sle and p == SLE_PERCENTILE,
                    "label": f"{p}th",
                    "value": days_label(value),
                    "top": frame.y1,
                }
            )
    return chart


def throughput_histogram(report: dict) -> dict:
    chart = histogram_chart(
        report["throughput"]["histogram"],
        "count",
        "days",
        "Cards finished in a day",
        "Days",
        "finished",
        "days",
    )
    chart.pop("x_scale", None)
    if not report["throughput"]["total"]:
        chart["empty"] = NO_FINISHES
    # Centre the labels under the bars: "2" means days with exactly two finishes.
    if not chart["empty"]:
        for tick, bar in zip(chart["x_ticks"], chart["bars"], strict=False):
            tick["x"] = round(bar["x"] + bar["width"] / 2, 2)
        chart["x_ticks"] = chart["x_ticks"][: len(chart["bars"])]
    return chart


def wip_chart(report: dict) -> dict:
    """Cards in progress at the end of each day, as a step line, with the window's average."""
    frame = Frame(right=110)
    axis = DayAxis(report["window"], frame, report.get("timezone"))
    days = report["wip_per_day"]
    chart = _base(
        frame,
        f"Date ({axis.label}), end of day",
        "Cards in progress",
        x_ticks=axis.ticks(),
        path="",
        dots=[],
        mean=None,
    )
    top = max((d["wip"] for d in days), default=0)
    scale, chart["y_ticks"] = value_axis(frame, top, integer=True)
    if not days:
        chart["empty"] = "No days in this window."
        return chart
    points = [(axis.left(d["date"]), scale(d["wip"])) for d in days]
    points.append((frame.x1, points[-1][1]))
    chart["path"] = step_path(points)
    chart["dots"] = [
        {
            "x": axis.centre(d["date"]),
            "y": scale(d["wip"]),
            "title": f"{date_label(date.fromisoformat(d['date']))}: {d['wip']} in progress",
        }
        for d in days
    ]
    average = report["littles_law"].get("avg_wip")
    if average is not None:
        chart["mean"] = {"y": scale(average), "label": f"average {number_label(round(average, 1))}"}
    return chart


def aging_chart(report: dict) -> dict:
    """Each started, unfinished card at its column, height = age, over cycle-time bands."""
    frame = Frame(width=1200, height=400, left=64, right=130, bottom=70)
    started = [c["name"] for c in report["columns"] if c["kind"] in ("queue", "active")]
    items = report["aging_wip"]
    for item in items:  # a card in a column no longer listed still shows
        if item["column"] not in started:
            started.append(item["column"])
    stats = report["cycle_time"]
    chart = _base(
        frame,
        "Column (left to right as on the board)",
        "Age (days since start)",
        columns=[],
        dots=[],
        bands=[],
        lines=[],
    )
    if not items:
        chart["empty"] = "No started cards are in progress."
        return chart
    top = max([i["age_days"] for i in items] + [stats.get("p95") or 0])
    scale, chart["y_ticks"] = value_axis(frame, top)
    band = frame.plot_width / max(len(started), 1)
    chars = max(8, int(band / 8))
    for index, name in enumerate(started):
        chart["columns"].append(
            {
                "x": round(frame.x0 + index * band, 2),
                "width": round(band, 2),
                "centre": round(frame.x0 + (index + 0.5) * band, 2),
                "lines": wrap_label(name, chars),
                "name": name,
            }
        )
    # Bands: below p50, p50–p70, p70–p85, p85–p95, above p95 (darker = rarer).
    edges = [0] + [stats[f"p{p}"] for p in PERCENTILES if stats.get(f"p{p}") is not None]
    edges.append(scale.d1)
    for level, (low, high) in enumerate(zip(edges, edges[1:], strict=False)):
        high = min(high, scale.d1)
        if high > low:
            chart["bands"].append(
                {"y": scale(high), "height": round(scale(low) - scale(high), 2), "level": level}
            )
    chart["lines"] = percentile_lines(stats, scale, frame)
    sle = report.get("sle_days")
    by_column: dict[str, list[dict]] = {}
    for item in sorted(items, key=lambda i: i["age_days"]):
        by_column.setdefault(item["column"], []).append(item)
    for name, group in by_column.items():
        column = chart["columns"][started.index(name)]
        spread = min(band * 0.7, 14 * (len(group) - 1)) if len(group) > 1 else 0
        for k, item in enumerate(group):
            offset = (k / (len(group) - 1) - 0.5) * spread if len(group) > 1 else 0
            late = sle is not None and item["age_days"] > sle
            chart["dots"].append(
                {
                    "x": round(column["centre"] + offset, 2),
                    "y": scale(item["age_days"]),
                    "late": late,
                    "blocked": item.get("blocked", False),
                    "title": f"{item['card']} {item['title']}: {days_label(item['age_days'])} days "
                    f"in progress, now in {name}"
                    + (" (blocked)" if item.get("blocked") else "")
                    + (" — past the SLE" if late else ""),
                }
            )
    return chart


def efficiency_chart(report: dict) -> dict:
    """Finished cards by flow efficiency, in tenths (0–10%, 10–20% … 90–100%)."""
    frame = Frame()
    values = [
        f["flow_efficiency"] for f in report["finished"] if f.get("flow_efficiency") is not None
    ]
    chart = _base(
        frame,
        "Flow efficiency of the card (active ÷ (active + wait))",
        "Finished cards",
        bars=[],
        x_ticks=[],
    )
    if not values:
        chart["empty"] = NO_FINISHES
        return chart
    counts = [0] * 10
    for value in values:
        counts[min(int(value * 10), 9)] += 1
    x = Linear(0, 10, frame.x0, frame.x1)
    scale, chart["y_ticks"] = value_axis(frame, max(counts), integer=True)
    chart["x_ticks"] = [{"x": x(k), "label": f"{k * 10}%"} for k in range(0, 11, 2)]
    for k, count in enumerate(counts):
        y = scale(count)
        chart["bars"].append(
            {
                "x": x(k) + 1,
                "width": x(k + 1) - x(k) - 2,
                "y": y,
                "height": round(frame.y0 - y, 2),
                "count": count,
                "title": f"{k * 10}–{k * 10 + 10}%: {count} cards",
            }
        )
    return chart


def blocked_chart(report: dict) -> dict:
    """A horizontal bar per blocking reason: total blocked days, with the count of blocks."""
    reasons = report["blocked"]
    frame = Frame(height=max(150, 70 + 34 * len(reasons)), left=230, right=150, bottom=50)
    chart = _base(frame, "Days blocked (total)", "", bars=[])
    if not reasons:
        chart["empty"] = "No card was blocked in this window."
        return chart
    ticks = nice_ticks(max(r["days"] for r in reasons))
    x = Linear(0, ticks[-1], frame.x0, frame.x1)
    chart["x_ticks"] = [{"x": x(t), "label": number_label(t)} for t in ticks]
    row = frame.plot_height / len(reasons)
    for index, reason in enumerate(reasons):
        y = frame.y1 + index * row
        chart["bars"].append(
            {
                "y": round(y + row * 0.15, 2),
                "height": round(row * 0.7, 2),
                "x": frame.x0,
                "width": max(round(x(reason["days"]) - frame.x0, 2), 1),
                "label": wrap_label(reason["reason"], 30, 1)[0],
                "mid": round(y + row / 2, 2),
                "value": f"{days_label(reason['days'])} d, {reason['count']} "
                + ("block" if reason["count"] == 1 else "blocks"),
                "title": f"{reason['reason']}: blocked {reason['count']} times, "
                f"{days_label(reason['days'])} days in all",
            }
        )
    return chart


def forecast_chart(result: dict) -> dict:
    """The forecast's histogram of outcomes (one bar per count of cards or per day, on a
    continuous axis so outcomes no trial reached leave a gap), with the confidence levels."""
    frame = Frame()
    bins = result.get("histogram") or []
    how_many = result["mode"] == "how_many"
    key = "items" if how_many else "days"
    start = date.fromisoformat(result["start"])
    chart = _base(
        frame,
        f"Cards finished by {result['by']}" if how_many else "Date the cards are all done",
        "Trials",
        bars=[],
        lines=[],
    )
    if not bins:
        chart["empty"] = "No trials to show."
        return chart

    def label(value: int) -> str:  # day n of the forecast is start + n - 1
        return str(value) if how_many else date_label(start + timedelta(days=value - 1))

    low, high = min(b[key] for b in bins), max(b[key] for b in bins) + 1
    x = Linear(low, high, frame.x0, frame.x1)
    scale, chart["y_ticks"] = value_axis(frame, max(b["trials"] for b in bins), integer=True)
    for b in bins:
        y = scale(b["trials"])
        chart["bars"].append(
            {
                "x": x(b[key]) + 0.5,
                "width": max(round(x(b[key] + 1) - x(b[key]) - 1, 2), 0.5),
                "y": y,
                "height": round(frame.y0 - y, 2),
                "title": f"{label(b[key])}: {b['trials']:,} trials",
            }
        )
    step = int(nice_step(high - low, 8, integer=True))
    first = -(-low // step) * step
    chart["x_ticks"] = [
        {"x": round(x(v + 0.5), 2), "label": label(v)} for v in range(first, high, step)
    ]
    for row in result["results"]:
        chart["lines"].append(
            {"x": round(x(row[key] + 0.5), 2), "label": f"{row['confidence']}%", "top": frame.y1}
        )
    return chart


def value_stream(report: dict) -> dict:
    """The value-stream map: each started step's average time, queue or active, in order."""
    stream = report["value_stream"]
    steps = stream["steps"]
    longest = max((s["avg_days"] or 0 for s in steps), default=0) or 1
    return {
        "steps": [{**s, "share": (s["avg_days"] or 0) / longest} for s in steps],
        "active_days": stream["active_days"],
        "wait_days": stream["wait_days"],
        "flow_efficiency": stream["flow_efficiency"],
        "empty": None if any(s["cards"] for s in steps) else NO_FINISHES,
    }


def all_charts(report: dict) -> dict:
    return {
        "cfd": cfd_chart(report),
        "scatter": scatter_chart(report),
        "throughput": throughput_chart(report),
        "throughput_histogram": throughput_histogram(report),
        "aging": aging_chart(report),
        "cycle_time": distribution_chart(report, "cycle_time", "Cycle time"),
        "lead_time": distribution_chart(report, "lead_time", "Lead time"),
        "wip": wip_chart(report),
        "efficiency": efficiency_chart(report),
        "blocked": blocked_chart(report),
        "value_stream": value_stream(report),
    }


__all__ = ["all_charts", "forecast_chart", "percent_label", "days_label"]
