"""The retrospective rhythm of a board and the period a retrospective looks back on.

A cadence says every how many weeks, on which weekday and at what time (the board's clock) the
team holds its retrospective. The next one is due on the first such slot at least the cadence
length after the previous one began, less half a week (a retrospective held a day late does not
push the next one a whole week on); the first is due on the first slot after the cadence was
set. It is overdue once that moment has passed and none has started since.

The period a new retrospective looks back on runs from the day after the previous one's period
ended to today; the first looks back one cadence length (two weeks without a cadence).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.boards.access import lock_board, require_role
from app.boards.models import Board
from app.clock import utcnow
from app.errors import Invalid
from app.events.services import record_event
from app.extensions import db
from app.metrics.services import board_today, board_zone, local_day
from app.retros.models import RetroCadence, Retrospective
from app.validation import whole_number

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_WEEKS = 8
DEFAULT_WEEKS = 2
SLACK = timedelta(days=3)


@dataclass(frozen=True)
class Due:
    at: datetime  # UTC, naive as stored
    local: datetime  # the same moment on the board's clock
    overdue: bool


def cadence_of(board: Board) -> RetroCadence | None:
    return db.session.scalar(select(RetroCadence).where(RetroCadence.board_id == board.id))


def latest(board: Board) -> Retrospective | None:
    return db.session.scalars(select(Retrospective).where(Retrospective.board_id == board.id)
                              .order_by(Retrospective.started_at.desc())).first()


def _time_of_day(value) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    try:
        return time.fromisoformat(str(value).strip()).replace(second=0, microsecond=0)
    except ValueError:
        raise Invalid(f"The time must be like 10:30 (got {value!r}).") from None


def set_cadence(board: Board, actor: User, *, every_weeks, weekday, starts_at,
                at: datetime | None = None) -> RetroCadence:
    """A board setting: owners choose the rhythm (every 1 to 8 weeks, a weekday, a time)."""
    require_role(board, actor, "owner")
    board = lock_board(board)
    weeks = whole_number(every_weeks, "Every how many weeks", minimum=1, maximum=MAX_WEEKS)
    day = whole_number(weekday, "The weekday", minimum=0, maximum=6)
    clock = _time_of_day(starts_at)
    cadence = cadence_of(board)
    if cadence is None:
        cadence = RetroCadence(board_id=board.id, every_weeks=weeks, weekday=day,
                               starts_at=clock)
        db.session.add(cadence)
    cadence.every_weeks, cadence.weekday, cadence.starts_at = weeks, day, clock
    cadence.set_at = at or utcnow()
    db.session.flush()
    record_event(board, "retro.cadence_set", actor=actor, at=cadence.set_at, every_weeks=weeks,
                 weekday=WEEKDAYS[day], time=clock.strftime("%H:%M"))
    return cadence


def next_due(board: Board, now: datetime | None = None) -> Due | None:
    """When the next retrospective is due (None without a cadence)."""
    cadence = cadence_of(board)
    if cadence is None:
        return None
    now = now or utcnow()
    previous = latest(board)
    if previous is None:
        earliest = local_day(board, cadence.set_at)
    else:
        earliest = local_day(board, previous.started_at) + timedelta(
            weeks=cadence.every_weeks) - SLACK
    day = earliest + timedelta(days=(cadence.weekday - earliest.weekday()) % 7)
    moment = datetime.combine(day, cadence.starts_at, tzinfo=board_zone(board))
    if previous is None and moment.astimezone(UTC).replace(tzinfo=None) < cadence.set_at:
        moment = datetime.combine(day + timedelta(weeks=1), cadence.starts_at,
                                  tzinfo=board_zone(board))
    due = moment.astimezone(UTC).replace(tzinfo=None)
    return Due(due, moment, now > due)


def default_period(board: Board, now: datetime | None = None) -> tuple[date, date]:
    """From the day after the previous retrospective's period to today; the first one looks
    back one cadence length."""
    today = board_today(board, now)
    previous = latest(board)
    if previous is not None and previous.period_to < today:
        return previous.period_to + timedelta(days=1), today
    cadence = cadence_of(board)
    weeks = cadence.every_weeks if cadence is not None else DEFAULT_WEEKS
    return today - timedelta(weeks=weeks) + timedelta(days=1), today
