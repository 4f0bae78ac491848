"""ActionableAgile's CSV history format, read and checked without touching the database.

A file is `ID,[Link,]Name,<stage 1>,...,<stage n>[,attributes]`: one row per work item, each
stage cell the moment the item entered that stage (ISO date or date-time), empty if never.
Reading collects every problem with its line number, so a refused file can be fixed in one go.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.cards.models import CARD_TYPES
from app.errors import Invalid
from app.text import from_spreadsheet_safe
from app.validation import clean_text, word_list

# Every item is replayed through the services (about 2–3 ms an event on SQLite, a few events an
# item): 2,000 items take some 25 s. 2 MB is also the most a web request may carry.
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ITEMS = 2_000
ID_MAX = 100
STAGE_NAME_MAX = 60

# Attribute columns Swarmboard reads back (header names, case-insensitive); they mark where the
# stages end unless the number of stages is given. Any other column after them is ignored.
ATTRIBUTES = {
    "type": "type",
    "lane": "lane",
    "class of service": "lane",
    "tags": "tags",
    "blocked": "blocked",
    "archived": "archived",
    "moves": "moves",
}
# Several moments in one cell (Blocked, Moves) are separated by "|", ActionableAgile's array
# separator; a "|" counts only when a date follows, so a blocked reason may contain one.
LIST_SEPARATOR = re.compile(r"\s*\|\s*(?=\d{4}-?\d{2}-?\d{2})")
DATE_ONLY = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
OPEN_END = ("", "..")
NO_REASON = "Blocked (no reason given in the imported file)"


class ImportRejected(Invalid):
    """A history file with problems: nothing was imported. `problems` lists (line, reason)
    for every one found, line 0 for the file as a whole."""

    def __init__(self, problems: list[tuple[int, str]]):
        count = len(problems)
        super().__init__(
            f"Nothing was imported: the file has {count} problem{'' if count == 1 else 's'}.",
            problems=[{"line": line, "problem": reason} for line, reason in problems],
        )
        self.problems = problems


@dataclass
class Header:
    id_index: int
    name_index: int
    stages: list[str]
    first_stage: int  # the index of the first stage column
    attributes: dict[str, int]  # what -> column index
    ignored: list[str]
    width: int


@dataclass
class Item:
    """One row, read and checked: where the card went and when (naive UTC), and its attributes."""

    line: int
    source_id: str
    title: str
    entries: list[tuple[datetime, int]]  # (moment, stage index), in order
    blocks: list[tuple[datetime, datetime | None, str]] = field(default_factory=list)
    archived_at: datetime | None = None
    type: str | None = None
    lane: str | None = None
    tags: list[str] = field(default_factory=list)


class BadRow(Exception):
    """One problem with a row; collected, never shown as an error of its own."""


def check_size(size: int) -> None:
    """Refuse a file by its size, before reading it."""
    if size > MAX_IMPORT_BYTES:
        raise Invalid(
            f"The file is {_size(size)}; a history import takes at most "
            f"{_size(MAX_IMPORT_BYTES)} ({MAX_IMPORT_ITEMS:,} items). Split it into several files."
        )


def decode(data: bytes | str) -> str:
    """The file's text, refused by size first and then if it is not UTF-8 text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    check_size(len(data))
    if not data.strip():
        raise Invalid("The file is empty; expected a CSV header ID,Name,<stages>… and rows.")
    if b"\x00" in data[:8192]:
        raise Invalid("This is not a CSV file (it holds binary data); save the sheet as CSV UTF-8.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid(
            f"The file is not UTF-8 text (byte {error.start + 1}); save it as CSV UTF-8."
        ) from None


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def read_rows(text: str) -> list[tuple[int, list[str]]]:
    """Every record with the line it starts on; blank lines are skipped."""
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    rows = []
    line = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                # Our export quotes text that looks like a formula; take that off again.
                rows.append((line, [from_spreadsheet_safe(cell) for cell in record]))
            line = reader.line_num + 1
    except csv.Error as error:
        raise ImportRejected([(reader.line_num, f"Not valid CSV: {error}.")]) from None
    if not rows:
        raise Invalid("The file is empty; expected a CSV header ID,Name,<stages>… and rows.")
    if len(rows) == 1:
        raise Invalid("The file has a header but no rows: there is no history to import.")
    if len(rows) - 1 > MAX_IMPORT_ITEMS:
        raise Invalid(
            f"The file has {len(rows) - 1:,} items; an import takes at most "
            f"{MAX_IMPORT_ITEMS:,}. Split it into several files."
        )
    return rows


def read_header(cells: list[str], stage_count: int | None = None) -> Header:
    """Find ID, the optional Link, Name, the stages and the attributes; refuse what is unclear."""
    names = [cell.strip() for cell in cells]
    if len(names) == 1 and any(sep in names[0] for sep in (";", "\t")):
        raise ImportRejected([(1, "Fields must be separated by commas, not ';' or tabs.")])
    problems = []
    if len(names) < 4:
        problems.append(
            f"The header has {len(names)} column(s); it needs ID, Name and at least two stages "
            f"(found: {', '.join(repr(n) for n in names)})."
        )
        raise ImportRejected([(1, p) for p in problems])
    if "id" not in names[0].lower():
        problems.append(f"The first column must be the item ID (found {names[0]!r}).")
    name_index = 2 if names[1].lower() == "link" else 1
    if not any(word in names[name_index].lower() for word in ("name", "title")):
        problems.append(
            f"Column {name_index + 1} must be the item's Name or Title "
            f"(found {names[name_index]!r})."
        )
    first = name_index + 1
    rest = names[first:]
    if stage_count is not None:
        if not 2 <= stage_count <= len(rest):
            problems.append(
                f"The number of stages must be between 2 and {len(rest)} for this header "
                f"(got {stage_count})."
            )
            raise ImportRejected([(1, p) for p in problems])
        end = stage_count
    else:
        end = next((i for i, n in enumerate(rest) if n.lower() in ATTRIBUTES), len(rest))
    stages = rest[:end]
    attributes: dict[str, int] = {}
    ignored = []
    for offset, name in enumerate(rest[end:], start=first + end):
        what = ATTRIBUTES.get(name.lower())
        if what is None or what in attributes:
            ignored.append(name or f"(column {offset + 1} without a name)")
        else:
            attributes[what] = offset
    if len(stages) < 2:
        problems.append(
            f"The header names {len(stages)} stage(s) before its attributes; a history needs at "
            "least two (where work starts and where it is done)."
        )
    seen = set()
    for name in stages:
        if not name:
            problems.append("A stage column has no name.")
        elif len(name) > STAGE_NAME_MAX:
            problems.append(f"Stage {name[:20]!r}… has more than {STAGE_NAME_MAX} characters.")
        elif name.lower() in seen:
            problems.append(f"Stage {name!r} appears twice in the header.")
        seen.add(name.lower())
    if problems:
        raise ImportRejected([(1, p) for p in problems])
    return Header(0, name_index, stages, first, attributes, ignored, len(names))


def parse_moment(text: str, zone: ZoneInfo) -> datetime:
    """An ISO date (midnight on the board's clock) or date-time (board-local unless it carries
    an offset), as naive UTC like every stored time."""
    text = text.strip()
    try:
        if DATE_ONLY.match(text):
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRow(f"{text!r} is not a date (use 2026-11-01 or 2026-11-01T09:30)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).replace(tzinfo=None)


def shown(moment: datetime, zone: ZoneInfo) -> str:
    """A stored (naive UTC) moment as an ISO date-time on the board's clock, with its offset."""
    return moment.replace(tzinfo=UTC).astimezone(zone).isoformat()


def read_item(line: int, cells: list[str], header: Header, zone: ZoneInfo) -> Item:
    """One row as an Item; raises BadRow listing every problem of the row."""
    if len(cells) != header.width:
        raise BadRow(f"has {len(cells)} fields; the header has {header.width}")
    problems = []
    source_id = cells[header.id_index].strip()
    if not source_id:
        problems.append("the ID is empty")
    elif len(source_id) > ID_MAX:
        problems.append(f"the ID is longer than {ID_MAX} characters")
    title = ""
    try:
        title = clean_text(cells[header.name_index], "The name", 200)
    except Invalid as error:
        problems.append(_lower_first(error.message.rstrip(".")))
    stage_moments: list[datetime | None] = []
    for index, stage in enumerate(header.stages):
        value = cells[header.first_stage + index].strip()
        try:
            stage_moments.append(parse_moment(value, zone) if value else None)
        except BadRow as error:
            problems.append(f"stage {stage!r}: {error}")
            stage_moments.append(None)
    attribute = {what: cells[index].strip() for what, index in header.attributes.items()}
    item = Item(line, source_id, title, [])
    for what, read in (
        ("type", _read_type),
        ("lane", _read_lane),
        ("tags", _read_tags),
        ("blocked", _read_blocks),
        ("archived", _read_archived),
    ):
        if attribute.get(what):
            try:
                read(item, attribute[what], zone)
            except (BadRow, Invalid) as error:
                message = error.message if isinstance(error, Invalid) else str(error)
                problems.append(f"{what.capitalize()}: {_lower_first(message.rstrip('.'))}")
    if not problems:
        try:
            if attribute.get("moves"):
                item.entries = _read_moves(attribute["moves"], header, zone, stage_moments)
            else:
                item.entries = _entries_from_stages(header, stage_moments)
            _check_times(item)
        except BadRow as error:
            problems.append(str(error))
    if problems:
        raise BadRow("; ".join(problems))
    return item


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _entries_from_stages(header: Header, moments: list[datetime | None]) -> list:
    entries = [(moment, index) for index, moment in enumerate(moments) if moment is not None]
    if not entries:
        raise BadRow("no stage has a date, so the item never entered the board")
    for (before, i), (after, j) in zip(entries, entries[1:], strict=False):
        if after < before:
            raise BadRow(
                f"dates go backwards across stages: {header.stages[j]!r} ({after:%Y-%m-%d %H:%M}"
                f" UTC) is before {header.stages[i]!r} ({before:%Y-%m-%d %H:%M} UTC)"
            )
    return entries


def _read_moves(text: str, header: Header, zone: ZoneInfo, moments: list) -> list:
    """Swarmboard's exact path (backward moves included): "<moment> <stage> | …". Each stage
    cell must then be the first or the last entry into that stage."""
    by_name = {name.lower(): index for index, name in enumerate(header.stages)}
    entries = []
    for part in LIST_SEPARATOR.split(text.strip()):
        when, _, name = part.partition(" ")
        index = by_name.get(name.strip().lower())
        if index is None:
            raise BadRow(f"Moves: {name.strip()!r} is not one of the file's stages")
        moment = parse_moment(when, zone)
        if entries and moment < entries[-1][0]:
            raise BadRow(f"Moves: {part!r} goes back in time")
        if not entries or entries[-1][1] != index:
            entries.append((moment, index))
    for index, moment in enumerate(moments):
        times = [at for at, stage in entries if stage == index]
        if (moment is None) != (not times) or (moment is not None and moment not in times):
            raise BadRow(
                f"the {header.stages[index]!r} cell disagrees with the Moves column (it must be "
                "the first or last time the item entered that stage, empty if never)"
            )
    return entries


def _check_times(item: Item) -> None:
    created, last = item.entries[0][0], item.entries[-1][0]
    for number, (start, _stop, _reason) in enumerate(item.blocks):
        if start < created:
            raise BadRow("Blocked: an interval starts before the item entered the board")
        if number:
            previous_stop = item.blocks[number - 1][1]
            if previous_stop is None:
                raise BadRow("Blocked: only the last interval may be open")
            if start < previous_stop:
                raise BadRow("Blocked: intervals overlap")
    if item.archived_at is not None and item.archived_at < last:
        raise BadRow("Archived: the item was archived before its last move")


def _read_type(item: Item, text: str, zone) -> None:
    """A Swarmboard card type; any other type (Story, Bug…) is kept as a tag."""
    value = re.sub(r"[\s-]+", "_", text.lower())
    if value in CARD_TYPES:
        item.type = value
    else:
        item.tags = word_list([*item.tags, text], "Tags")


def _read_lane(item: Item, text: str, zone) -> None:
    item.lane = clean_text(text, "Lane", 60)


def _read_tags(item: Item, text: str, zone) -> None:
    item.tags = word_list([*word_list(text.replace("|", ","), "Tags"), *item.tags], "Tags")


def _read_archived(item: Item, text: str, zone) -> None:
    item.archived_at = parse_moment(text, zone)


def _read_blocks(item: Item, text: str, zone) -> None:
    """Blocked intervals: "<start>/<end> <reason> | …"; an open end (empty or "..") is a card
    still blocked."""
    for part in LIST_SEPARATOR.split(text.strip()):
        span, _, reason = part.partition(" ")
        start, slash, stop = span.partition("/")
        if not slash:
            raise BadRow(
                f"{part!r} is not an interval like 2026-11-01T10:00/2026-11-02T09:00 reason"
            )
        begin = parse_moment(start, zone)
        end = None if stop in OPEN_END else parse_moment(stop, zone)
        if end is not None and end < begin:
            raise BadRow(f"{span!r} ends before it starts")
        item.blocks.append((begin, end, clean_text(reason or NO_REASON, "Blocked reason", 300)))
    item.blocks.sort(key=lambda block: block[0])
