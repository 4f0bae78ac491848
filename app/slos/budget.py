"""An objective's error budget: the down time it counts, read from the event log and the cards,
as a union of stretches (an andon pulled on an alert's incident card is one outage, not three),
and what is left of the budget over the window."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.alerts.services import CRITICAL  # what the intake calls critical, pulling the andon
from app.boards.models import BoardColumn
from app.cards.models import Card
from app.clock import utcnow
from app.events.models import Event
from app.extensions import db
from app.slos.models import ServiceObjective

ANDON = ("card.andon_pulled", "card.andon_cleared")
ALERT = ("alert.fired", "alert.resolved")
BURN_WINDOW = timedelta(hours=24)
MINUTE = 60.0


@dataclass(frozen=True)
class Outage:
    """A stretch the objective counts as down: `end` None while it goes on."""

    source: str  # andon, incident, alert
    card_id: int
    start: datetime
    end: datetime | None


@dataclass
class Budget:
    """An objective's budget at `now` over the window before it."""

    objective: ServiceObjective
    now: datetime
    budget_minutes: float
    spent_minutes: float
    burn_rate: float | None  # the last 24 hours' spending against the objective's pace
    outages: list[Outage] = field(default_factory=list)  # those that touch the window

    @property
    def left_minutes(self) -> float:
        return self.budget_minutes - self.spent_minutes

    @property
    def left_percent(self) -> float:
        """What is left of the budget, in percent of it; negative once overspent."""
        if self.budget_minutes <= 0:
            return 0.0 if self.spent_minutes else 100.0
        return 100.0 * self.left_minutes / self.budget_minutes

    @property
    def availability(self) -> float:
        """Percent of the window the service was up."""
        window = self.objective.window_days * 1440
        return 100.0 * (window - self.spent_minutes) / window

    @property
    def state(self) -> str:
        if self.left_minutes <= 0:
            return "exhausted"
        return "low" if self.left_percent < self.objective.threshold else "ok"


def budget_minutes(objective: ServiceObjective) -> float:
    return (100.0 - objective.target) / 100.0 * objective.window_days * 1440


def outages(objective: ServiceObjective, since: datetime, until: datetime) -> list[Outage]:
    """Every stretch between `since` and `until` that the objective counts, clipped to that
    span (one still going on has no end)."""
    found = []
    if objective.count_andon:
        found += _andon_outages(objective, since, until)
    if objective.alerts != "none":
        found += _alert_outages(objective, since, until)
    if objective.incident_priority:
        found += _incident_outages(objective, since, until)
    clipped = []
    for outage in found:
        start = max(outage.start, since)
        end = outage.end if outage.end is None or outage.end < until else None
        if end is None or end > start:
            clipped.append(Outage(outage.source, outage.card_id, start, end))
    return sorted(clipped, key=lambda o: (o.start, o.card_id))


def _scoped_events(objective: ServiceObjective, kinds: tuple, key: tuple,
                   since: datetime, until: datetime) -> list:
    """The objective's events of these kinds (opening, closing) between `since` and `until`,
    and before them the opening event of each `key` still open at `since`, however long ago:
    (seq, card, type, at, data) rows in log order."""
    opens, _ = kinds
    scope = [Event.board_id == objective.board_id, Event.type.in_(kinds)]
    if objective.lane_id is not None:
        scope += [Card.id == Event.card_id, Card.lane_id == objective.lane_id]
    columns = (Event.seq, Event.card_id, Event.type, Event.at, Event.data)
    last = (select(func.max(Event.seq)).where(*scope, Event.at < since).group_by(*key)
            .correlate(None))  # its own FROM, not the outer query's
    still_open = select(*columns).where(*scope, Event.seq.in_(last), Event.type == opens)
    during = select(*columns).where(*scope, Event.at >= since, Event.at <= until)
    found = db.session.execute(still_open).all() + db.session.execute(during).all()
    return sorted(found, key=lambda row: row.seq)


def _paired(rows, opens: str, keep=lambda data: True) -> list[tuple]:
    """(key, card, start, end) stretches from (key, card, type, at, data) rows in order: an
    opening row starts one (if `keep` says it counts), the next other row of its key ends it;
    what is still open has no end."""
    started: dict = {}
    stretches = []
    for key, card_id, kind, at, data in rows:
        if kind == opens:
            if key not in started and keep(data):
                started[key] = (card_id, at)
        elif key in started:
            card_id, start = started.pop(key)
            stretches.append((key, card_id, start, at))
    stretches += [(key, card_id, start, None) for key, (card_id, start) in started.items()]
    return stretches


def _andon_outages(objective, since, until) -> list[Outage]:
    rows = [(card, card, kind, at, data) for _, card, kind, at, data in
            _scoped_events(objective, ANDON, (Event.card_id,), since, until)]
    stretches = _paired(rows, ANDON[0])
    going = [card for _, card, _, end in stretches if end is None]
    # A card archived with its cord still pulled is off the board: its outage ends there.
    archived = dict(db.session.execute(select(Card.id, Card.archived_at).where(
        Card.id.in_(going), Card.archived_at.is_not(None))).all()) if going else {}
    return [Outage("andon", card, start, end if end is not None else archived.get(card))
            for _, card, start, end in stretches]


def _alert_outages(objective, since, until) -> list[Outage]:
    def counts(data) -> bool:
        severity = (data.get("severity") or "").lower()
        return objective.alerts == "all" or severity in CRITICAL

    fingerprint = Event.data["fingerprint"].as_string()
    rows = [((card, data.get("fingerprint")), card, kind, at, data) for _, card, kind, at, data in
            _scoped_events(objective, ALERT, (Event.card_id, fingerprint), since, until)]
    return [Outage("alert", card, start, end)
            for _, card, start, end in _paired(rows, ALERT[0], keep=counts)]


def _incident_outages(objective, since, until) -> list[Outage]:
    query = select(Card).where(
        Card.board_id == objective.board_id, Card.type == "incident", Card.created_at <= until)
    if objective.lane_id is not None:
        query = query.where(Card.lane_id == objective.lane_id)
    cards = [c for c in db.session.scalars(query) if c.priority <= objective.incident_priority]
    restored = _restored_at(objective, cards)
    found = []
    for card in cards:
        end = restored.get(card.id) if objective.restored_column_id else card.finished_at
        if end is None and card.archived_at is not None:
            end = card.archived_at  # given up on without restoring: down until then
        if end is None or end > since:
            found.append(Outage("incident", card.id, card.created_at, end))
    return found


def _restored_at(objective, cards: list[Card]) -> dict[int, datetime]:
    """When each card first stood in the restored column or one after it."""
    mark = objective.restored_column
    if mark is None or not cards:
        return {}
    later = set(db.session.scalars(select(BoardColumn.id).where(
        BoardColumn.board_id == objective.board_id, BoardColumn.position >= mark.position)))
    ids = [c.id for c in cards]
    # Made in the restored column or a later one: restored from the start. Else its first move
    # there (the log's order: creation first).
    entered = db.session.execute(
        select(Event.card_id, Event.at).where(
            Event.card_id.in_(ids), Event.type.in_(("card.created", "card.moved")),
            Event.to_column_id.in_(later))
        .order_by(Event.seq)).all()
    restored: dict[int, datetime] = {}
    for card_id, at in entered:
        restored.setdefault(card_id, at)
    return restored


def union(stretches: list[Outage], since: datetime, until: datetime) -> list[tuple]:
    """The outages merged into disjoint (start, end) spans within [since, until]."""
    spans = sorted((max(o.start, since), min(o.end or until, until)) for o in stretches)
    merged: list[list] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(span) for span in merged]


def spent_minutes(spans: list[tuple], since: datetime, until: datetime) -> float:
    total = 0.0
    for start, end in spans:
        start, end = max(start, since), min(end, until)
        if end > start:
            total += (end - start).total_seconds()
    return total / MINUTE


def budget_of(objective: ServiceObjective, now: datetime | None = None) -> Budget:
    """The budget now: spent is the union of the counted outages over the window."""
    now = now or utcnow()
    since = now - timedelta(days=objective.window_days)
    found = outages(objective, since, now)
    spans = union(found, since, now)
    allowed = budget_minutes(objective)
    burn = None
    if allowed > 0:
        recent = spent_minutes(spans, now - BURN_WINDOW, now)
        pace = allowed / (objective.window_days * 1440)  # allowed minutes per minute
        burn = recent / (BURN_WINDOW.total_seconds() / MINUTE) / pace
    return Budget(objective, now, allowed, spent_minutes(spans, since, now), burn, found)


def budget_history(objective: ServiceObjective, now: datetime | None = None,
                   points: int | None = None) -> list[tuple[datetime, float]]:
    """Budget left (percent) at the end of each day of the window, as the window then stood."""
    now = now or utcnow()
    window = timedelta(days=objective.window_days)
    spans = union(outages(objective, now - 2 * window, now), now - 2 * window, now)
    allowed = budget_minutes(objective)
    days = points or objective.window_days
    series = []
    for back in range(days, -1, -1):
        moment = now - timedelta(days=back)
        spent = spent_minutes(spans, moment - window, moment)
        left = 100.0 * (allowed - spent) / allowed if allowed > 0 else 100.0
        series.append((moment, left))
    return series
