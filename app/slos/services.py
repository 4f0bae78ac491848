"""Service level objectives: defined per board or lane by its owners; their budgets read from
the log; starting feature work under a low budget needs a reason (recorded like a WIP
override); and, while a budget is low, reliability work sorts first in every column."""

from datetime import datetime

from sqlalchemy import bindparam, select

from app.accounts.models import User
from app.boards.access import lock_board, require_role
from app.boards.models import Board, BoardColumn, Lane
from app.cards import ordering
from app.cards.models import Card
from app.clock import utcnow
from app.database import by_id, rows
from app.errors import ErrorBudgetLow, Invalid, NotFound
from app.events import hooks
from app.events.models import Event
from app.events.services import record_event
from app.extensions import db
from app.notifications.rounds import Every
from app.slos.budget import Budget, budget_of
from app.slos.models import ALERT_POLICIES, INCIDENT_PRIORITIES, ServiceObjective
from app.validation import choice, clean_text

# Work that spends reliability: starting it under a low budget needs a reason.
GATED_TYPES = ("feature",)
STATE_EVENTS = {
    "low": "slo.budget_low",
    "exhausted": "slo.budget_exhausted",
    "ok": "slo.budget_recovered",
}
REASON_MAX = 300
CHECK_EVERY = 60.0  # seconds


def objectives_of(board: Board) -> list[ServiceObjective]:
    return list(
        db.session.scalars(
            select(ServiceObjective)
            .where(ServiceObjective.board_id == board.id)
            .order_by(ServiceObjective.id)
        )
    )


def get_objective(board: Board, objective_id) -> ServiceObjective:
    objective = by_id(db.session, ServiceObjective, objective_id)
    if objective is None or objective.board_id != board.id:
        raise NotFound(f"Board {board.key} has no such service level objective.")
    return objective


def budgets_of(board: Board, now: datetime | None = None) -> list[Budget]:
    now = now or utcnow()
    return [budget_of(objective, now) for objective in objectives_of(board)]


# --- defining objectives --------------------------------------------------------------------


def _number(value, what: str, low: float, high: float, *, whole: bool = False):
    text = str(value if value is not None else "").strip().rstrip("%").strip()
    try:
        number = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise Invalid(f"{what} must be {kind} (got {value!r}).") from None
    if not low <= number <= high:  # NaN fails this too
        raise Invalid(f"{what} must be between {low:g} and {high:g} (got {text}).")
    return number


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "on", "yes")


def _cleaned(board: Board, fields: dict, current: ServiceObjective | None = None) -> dict:
    """The objective's settings, checked; every field is required except lane and restored
    column (whole board; the done column)."""
    name = clean_text(fields.get("name"), "Name", 80)
    target = _number(fields.get("target"), "Target", 50, 99.999)
    if target >= 100:
        raise Invalid("Target must be below 100%: no budget is left for anything to go wrong.")
    cleaned = {
        "name": name,
        "target": round(target, 3),
        "window_days": _number(fields.get("window_days", 28), "Window (days)", 1, 90, whole=True),
        "threshold": _number(
            fields.get("threshold", 25), "Threshold (% of the budget left)", 0, 100, whole=True
        ),
        "count_andon": _flag(fields.get("count_andon", False)),
        "incident_priority": int(
            choice(
                str(fields.get("incident_priority", 1)),
                tuple(str(p) for p in INCIDENT_PRIORITIES),
                "Incident cards counted",
            )
        ),
        "alerts": choice(fields.get("alerts", "critical"), tuple(ALERT_POLICIES), "Alerts counted"),
        "lane": _of_board(board, Lane, fields.get("lane"), "Lane"),
        "restored_column": _of_board(
            board, BoardColumn, fields.get("restored_column"), "Restored column"
        ),
    }
    if not (cleaned["count_andon"] or cleaned["incident_priority"] or cleaned["alerts"] != "none"):
        raise Invalid(
            "An objective needs something to count: andon pulls, incident cards or " "alerts."
        )
    column = cleaned["restored_column"]
    if column is not None and (column.removed_at is not None or column.kind == "backlog"):
        raise Invalid(
            f"Column {column.name!r} cannot mark a restored service: choose a column "
            "after the commitment point."
        )
    taken = db.session.scalar(
        select(ServiceObjective.id).where(
            ServiceObjective.board_id == board.id, ServiceObjective.name == name
        )
    )
    if taken is not None and (current is None or taken != current.id):
        raise Invalid(f"Board {board.key} already has an objective called {name!r}.")
    return cleaned


def _of_board(board: Board, model, value, what: str):
    if value is None or str(value).strip() == "":
        return None
    found = by_id(db.session, model, value)
    if found is None or found.board_id != board.id:
        raise Invalid(f"{what} {value!r} is not on board {board.key}.")
    return found


def _described(objective: ServiceObjective) -> dict:
    return {
        "objective": objective.id,
        "name": objective.name,
        "target": objective.target,
        "window_days": objective.window_days,
        "threshold": objective.threshold,
        "lane": objective.lane.name if objective.lane else None,
    }


def define_objective(
    board: Board, actor: User, *, at: datetime | None = None, **fields
) -> ServiceObjective:
    """A new objective (owners only); its state is read at once."""
    require_role(board, actor, "owner")
    board = lock_board(board)
    at = at or utcnow()
    objective = ServiceObjective(
        board_id=board.id, created_by_id=actor.id, created_at=at, **_cleaned(board, fields)
    )
    db.session.add(objective)
    db.session.flush()
    objective.state = budget_of(objective, at).state
    record_event(
        board, "slo.defined", actor=actor, at=at, state=objective.state, **_described(objective)
    )
    return objective


def update_objective(
    objective: ServiceObjective, actor: User, *, at: datetime | None = None, **fields
) -> ServiceObjective:
    board = objective.board
    require_role(board, actor, "owner")
    board = lock_board(board)
    at = at or utcnow()
    for name, value in _cleaned(board, fields, objective).items():
        setattr(objective, name, value)
    db.session.flush()
    objective.state = budget_of(objective, at).state
    record_event(
        board, "slo.updated", actor=actor, at=at, state=objective.state, **_described(objective)
    )
    return objective


def remove_objective(objective: ServiceObjective, actor: User, *, at=None) -> None:
    board = objective.board
    require_role(board, actor, "owner")
    board = lock_board(board)
    record_event(board, "slo.removed", actor=actor, at=at, **_described(objective))
    db.session.delete(objective)
    db.session.flush()


# --- what a low budget changes --------------------------------------------------------------


def low_budgets(board: Board, lane_id: int | None, now: datetime) -> list[Budget]:
    """Budgets under their threshold that apply to a card in `lane_id` (only those objectives
    are read)."""
    covering = [o for o in objectives_of(board) if o.lane_id in (None, lane_id)]
    return [budget for budget in (budget_of(o, now) for o in covering) if budget.state != "ok"]


def reliability_first(board_id: int) -> set[int] | None:
    """The lanes whose cells put reliability work first (None: every lane), by the state the
    budget round last saw; an empty set when every budget is fine."""
    lanes = set(rows(db.session, _LOW_LANES, {"board": board_id}).scalars())
    return None if None in lanes else lanes


# Built once, run with parameters: every pushed move asks (app/database.py says why).
_LOW_LANES = select(ServiceObjective.lane_id).where(
    ServiceObjective.board_id == bindparam("board"), ServiceObjective.state != "ok"
)
ordering.reliability_rules.append(reliability_first)


def _budget_sentence(budgets: list[Budget]) -> str:
    said = []
    for b in budgets:
        o = b.objective
        left = (f"{max(b.left_percent, 0):.0f}% of its error budget left, under {o.threshold}%"
                if b.state == "low" else "spent its error budget")
        said.append(f"{o.name} ({o.target:g}% over {o.window_days} days) has {left}")
    return "; ".join(said)


@hooks.recorded.connect
def _gate_feature_starts(board, *, event, session, decisions) -> None:
    """A feature card entering the commitment point while a budget that covers its lane is
    low needs a reason, recorded as `slo.overridden` (like a WIP override)."""
    if event.type not in ("card.moved", "card.created") or event.card_id is None:
        return
    card = session.get(Card, event.card_id)
    if card.type not in GATED_TYPES or card.started_at is None or card.started_at != event.at:
        return
    low = low_budgets(board, card.lane_id, event.at)
    if not low:
        return
    reason = (decisions.get("override_reason") or "").strip()
    if not reason:
        raise ErrorBudgetLow(
            f"{_budget_sentence(low)}. Reliability work goes first; give a reason to start "
            f"{card.key} anyway.",
            needs_reason=True,
        )
    for budget in low:
        record_event(
            board,
            "slo.overridden",
            actor=event.actor,
            card=card,
            at=event.at,
            objective=budget.objective.id,
            name=budget.objective.name,
            card_key=card.key,
            left_percent=round(budget.left_percent, 1),
            reason=reason[:REASON_MAX],
        )


@hooks.recorded.connect
def _refuse_removing_a_measured_lane(board, *, event, session, decisions) -> None:
    if event.type != "lane.removed":
        return
    names = session.scalars(select(ServiceObjective.name).where(
        ServiceObjective.lane_id == event.data["lane"])).all()
    if names:
        raise Invalid(f"Lane {event.data['name']!r} has the service level objective "
                      f"{', '.join(names)}; remove it or give it another lane first.")


def check_budgets(now: datetime | None = None) -> int:
    """Read every objective's budget; a change of state (ok, low, exhausted) becomes an event.
    Returns how many changed (the caller commits)."""
    now = now or utcnow()
    changed = 0
    for objective in db.session.scalars(select(ServiceObjective)).all():
        budget = budget_of(objective, now)
        if budget.state == objective.state:
            continue
        board = lock_board(objective.board)
        db.session.refresh(objective)
        if objective.state == budget.state:
            continue  # another runner saw it first
        objective.state = budget.state
        record_event(
            board,
            STATE_EVENTS[budget.state],
            at=now,
            left_percent=round(budget.left_percent, 1),
            spent_minutes=round(budget.spent_minutes, 1),
            **_described(objective),
        )
        changed += 1
    return changed


def budget_round(runner_name: str) -> int:
    """The background runner's share (app/webhooks/delivery.py): commits its own work."""
    check_budgets()
    db.session.commit()
    return 0  # budgets drain by the minute: nothing to hurry back for


def init_budgets(app) -> None:
    """Read every budget once a minute in the background runner."""
    app.extensions["sb_rounds"].append(Every(CHECK_EVERY, budget_round))


def overrides_of(board: Board, since: datetime) -> list[Event]:
    """Feature work started under a low budget, with the reasons given, newest first."""
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.board_id == board.id, Event.type == "slo.overridden", Event.at >= since)
            .order_by(Event.seq.desc())
        )
    )
