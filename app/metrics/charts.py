"""Geometry for the metrics page's SVG charts: scales, round ticks, date ticks and paths.

The charts are server-rendered SVG from our own templates (style.md); this module only turns the
report's numbers into coordinates, so the templates draw and never compute.
"""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PERCENTILES = (50, 70, 85, 95)
SLE_PERCENTILE = 85
# Paul Tol's "muted" scheme: distinguishable with the common colour-vision deficiencies.
PALETTE = (
    "#332288",
    "#88CCEE",
    "#117733",
    "#DDCC77",
    "#CC6677",
    "#44AA99",
    "#AA4499",
    "#999933",
    "#882255",
)
DONE_COLOUR = "#7d8b99"
BACKLOG_COLOUR = "#d9dee4"


@dataclass(frozen=True)
class Frame:
    """A chart's viewBox and the margins around its plotting area (in SVG user units)."""

    width: int = 760
    height: int = 340
    left: int = 64
    right: int = 24
    top: int = 20
    bottom: int = 62

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:  # the baseline (SVG y grows downwards)
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top

    @property
    def plot_width(self) -> float:
        return self.x1 - self.x0

    @property
    def plot_height(self) -> float:
        return self.y0 - self.y1


WIDE = Frame(width=1200, height=380, left=64, right=28)


@dataclass(frozen=True)
class Linear:
    """Maps the domain [d0, d1] onto the range [r0, r1]."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        if self.d1 == self.d0:
            return self.r0
        return round(self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0), 2)


def nice_step(span: float, count: int = 5, integer: bool = False) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^k) giving about `count` intervals over `span`."""
    if span <= 0:
        return 1
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if step >= raw * (1 - 1e-9) and not (integer and step != int(step)):
            return step
    return 10 * magnitude


def nice_ticks(top: float, count: int = 5, integer: bool = False) -> list[float]:
    """Ticks from 0 up to the first round value at or above `top` (0–1 when there is no data)."""
    if top is None or top <= 0:
        return [0, 1]
    step = max(1, nice_step(top, count, integer)) if integer else nice_step(top, count)
    intervals = max(1, math.ceil(top / step - 1e-9))
    return [round(i * step, 6) for i in range(intervals + 1)]


def number_label(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def days_label(value: float | None) -> str:
    """Days to one decimal (two under a day), as the page shows durations."""
    if value is None:
        return "–"
    return f"{value:.2f}" if 0 < abs(value) < 1 else f"{value:.1f}"


def percent_label(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def date_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def date_ticks(first: date, days: int, most: int = 9) -> list[date]:
    """Calendar ticks over `days` days from `first`: daily, every 2 days, weekly on Mondays,
    fortnightly, or on the first of every 1, 2, 3, 6 or 12 months — the finest that fits."""
    for step in (1, 2, 7, 14):
        if days / step <= most:
            offset = (7 - first.weekday()) % 7 if step >= 7 else 0
            return [first + timedelta(days=d) for d in range(offset, days, step)]
    last = first + timedelta(days=days - 1)
    for months in (1, 2, 3, 6, 12):
        ticks = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            start = date(year, month, 1)
            if start >= first and (month - 1) % months == 0:
                ticks.append(start)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if len(ticks) <= most:
            return ticks
    return [first]


def year_span(first: date, last: date) -> str:
    return str(first.year) if first.year == last.year else f"{first.year}–{last.year}"


def wrap_label(text: str, width: int, lines: int = 2) -> list[str]:
    """Break a label into at most `lines` lines of about `width` characters (ellipsis beyond)."""
    words, out, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1] + "…"
    return [line if len(line) <= width else line[: width - 1] + "…" for line in out]


def spread_labels(positions: list[float], gap: float) -> list[float]:
    """Nudge label positions (ascending y) apart so that neighbours are at least `gap` apart."""
    placed: list[float] = []
    for y in positions:
        placed.append(y if not placed or y - placed[-1] >= gap else placed[-1] + gap)
    return placed


def polyline(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def step_path(points: list[tuple[float, float]]) -> str:
    """A step line: horizontal to each next x, then vertical to its y."""
    if not points:
        return ""
    parts = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for x, y in points[1:]:
        parts.append(f"H{x:.1f}V{y:.1f}")
    return "".join(parts)


class DayAxis:
    """Calendar days of the window as equal bands; a day's value sits at its band's centre."""

    def __init__(self, window: dict, frame: Frame, timezone: str = "UTC"):
        self.first = date.fromisoformat(window["from"])
        self.last = date.fromisoformat(window["to"])
        self.days = (self.last - self.first).days + 1
        self.frame = frame
        self.band = frame.plot_width / max(self.days, 1)
        try:
            self.zone = ZoneInfo(timezone or "UTC")
        except (KeyError, ValueError):
            self.zone = ZoneInfo("UTC")

    def index(self, day: str | date) -> int:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        return (day - self.first).days

    def centre(self, day: str | date) -> float:
        return round(self.frame.x0 + (self.index(day) + 0.5) * self.band, 2)

    def left(self, day: str | date) -> float:
        return round(self.frame.x0 + self.index(day) * self.band, 2)

    def at(self, moment: str | None, day: str) -> float:
        """x of an exact moment (stored as naive UTC) in board-local time, else its day's centre."""
        try:
            stamp = datetime.fromisoformat(moment)
        except (TypeError, ValueError):
            return self.centre(day)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        local = stamp.astimezone(self.zone).replace(tzinfo=None)
        offset = (local - datetime.combine(self.first, datetime.min.time())).total_seconds()
        offset = min(max(offset / 86_400, 0), self.days)
        return round(self.frame.x0 + offset * self.band, 2)

    def ticks(self) -> list[dict]:
        most = 13 if self.frame.width >= 1000 else 8
        return [
            {"x": self.centre(day), "label": date_label(day)}
            for day in date_ticks(self.first, self.days, most)
        ]

    @property
    def label(self) -> str:
        return year_span(self.first, self.last)


def value_axis(frame: Frame, top: float, integer: bool = False, count: int = 5):
    """A vertical linear scale from 0 to a round top, with its ticks."""
    ticks = nice_ticks(top, count, integer)
    scale = Linear(0, ticks[-1], frame.y0, frame.y1)
    return scale, [{"y": scale(t), "label": number_label(t)} for t in ticks]


def column_colours(columns: list[dict]) -> dict[str, str]:
    """One colour per column: backlog pale grey, done slate, the steps between from the palette."""
    colours, index = {}, 0
    for column in columns:
        if column["kind"] == "backlog":
            colours[column["name"]] = BACKLOG_COLOUR
        elif column["kind"] == "done":
            colours[column["name"]] = DONE_COLOUR
        else:
            colours[column["name"]] = PALETTE[index % len(PALETTE)]
            index += 1
    return colours
