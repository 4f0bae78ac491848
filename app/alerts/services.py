"""What a board does with the alerts monitoring sends it.

A firing alert opens an incident card in the Expedite lane (or, known by its fingerprint,
updates the one it opened) and, as the board is set, pulls the andon cord. A resolved alert
says so on the card, clears the cord it pulled, and can move the card on. One call is one
transaction: a body with one bad alert changes nothing.
"""

from collections import Counter
from datetime import datetime

from sqlalchemy import select

from app.accounts.models import User
from app.alerts.formats import ReceivedAlert, read_alerts
from app.alerts.models import ANDON_POLICIES, Alert, AlertIntake
from app.boards.access import lock_board, require_role
from app.boards.models import Board
from app.boards.services import active_columns, board_lanes, find_column
from app.cards.models import Card
from app.cards.moves import move_card
from app.cards.services import create_card, update_card
from app.cards.wip import check_room
from app.clock import utcnow
from app.errors import DomainError, WipLimitReached
from app.events.services import record_event
from app.extensions import db
from app.swarms.andon import clear_andon, hook_for, pull_andon
from app.validation import choice

# Severities that page someone: P1, and the andon under the "critical" policy.
CRITICAL = ("critical", "page", "p1", "emergency", "disaster", "fatal")
SERIOUS = ("warning", "major", "error", "high", "p2")
TITLE_MAX = 200
RECENT = 10


def intake_of(board: Board) -> AlertIntake:
    """The board's alert settings (the defaults, unsaved, until an owner changes them)."""
    return db.session.get(AlertIntake, board.id) or AlertIntake(board_id=board.id,
                                                                andon="critical")


def update_intake(board: Board, actor: User, *, andon, resolved_column) -> AlertIntake:
    """Owners choose when an alert pulls the andon, and where a resolved alert's card goes."""
    require_role(board, actor, "owner")
    intake = db.session.get(AlertIntake, board.id)
    if intake is None:
        intake = AlertIntake(board_id=board.id)
        db.session.add(intake)
    intake.andon = choice(andon, ANDON_POLICIES, "When to pull the andon")
    intake.resolved_column = (find_column(board, resolved_column)
                              if resolved_column not in (None, "", "none") else None)
    db.session.flush()
    return intake


def recent_alerts(board: Board) -> list[Alert]:
    return list(db.session.scalars(
        select(Alert).where(Alert.board_id == board.id)
        .order_by(Alert.last_received_at.desc(), Alert.id.desc()).limit(RECENT)))


def receive_alerts(board: Board, token: str | None, body, at: datetime | None = None) -> dict:
    """Take a webhook body from Alertmanager or Grafana, sent with one of the board's incoming
    webhook tokens (the alerts act as whoever made it). Answers what became of the alerts."""
    hook = hook_for(board, token)
    received = read_alerts(body)
    lock_board(board)
    intake = intake_of(board)
    at = at or utcnow()
    outcome: Counter = Counter()
    cards: list[str] = []
    for alert in received:
        did, card = _take(board, hook.created_by, intake, alert, f"alert {hook.name}", at)
        outcome[did] += 1
        if card is not None and card.key not in cards:
            cards.append(card.key)
    return {"received": len(received), **{k: outcome[k] for k in
            ("opened", "refired", "repeated", "resolved", "unknown")}, "cards": cards}


def _take(board, actor, intake, alert: ReceivedAlert, via: str, at) -> tuple[str, Card | None]:
    known = db.session.scalar(
        select(Alert).where(Alert.board_id == board.id, Alert.fingerprint == alert.fingerprint))
    if not alert.firing:
        if known is None or known.status == "resolved":
            return ("unknown" if known is None else "repeated"), known and known.card
        known.last_received_at = at
        _resolve(known, actor, intake, alert, at)
        return "resolved", known.card
    if known is not None:
        known.last_received_at = at
        if known.status == "firing" and _live(known.card):
            _refresh(known, actor, alert)
            return "repeated", known.card
        if _live(known.card):
            _fire(known, actor, intake, alert, via, at, refired=True)
            return "refired", known.card
    card = _open_card(board, actor, alert, via, at)
    if known is None:
        known = Alert(board_id=board.id, fingerprint=alert.fingerprint, times_fired=0)
        db.session.add(known)
    known.card, known.last_received_at = card, at
    _fire(known, actor, intake, alert, via, at, refired=False)
    return "opened", card


def _live(card: Card) -> bool:
    """A card an alert can still speak on: not archived, not done."""
    return card.archived_at is None and card.column.kind != "done"


def _fire(known: Alert, actor, intake, alert: ReceivedAlert, via, at, *, refired) -> None:
    known.source, known.name, known.severity = alert.source, alert.name[:200], alert.severity
    known.labels, known.status = alert.labels, "firing"
    known.fired_at, known.resolved_at = alert.starts_at or at, None
    known.times_fired += 1
    db.session.flush()
    card = known.card
    pull = intake.andon == "always" or (intake.andon == "critical"
                                        and alert.severity in CRITICAL)
    record_event(card.board, "alert.fired", actor=actor, card=card, at=at,
                 alert=alert.name, fingerprint=alert.fingerprint, source=alert.source,
                 severity=alert.severity, summary=alert.summary, refired=refired,
                 andon=pull and card.andon_at is None)
    if pull and card.andon_at is None:
        pull_andon(card, actor, _andon_reason(alert), via=via, at=at)
        known.pulled_andon = True


def _resolve(known: Alert, actor, intake, alert: ReceivedAlert, at) -> None:
    card = known.card
    known.status, known.resolved_at = "resolved", alert.ends_at or at
    cleared = known.pulled_andon and card.andon_at is not None
    target, reason = _resolved_column(known, intake), f"Alert {known.name} resolved"
    not_moved = None
    if target is not None:
        try:
            check_room(card, target, card.lane, reason)
        except DomainError as refused:  # the card stays; the resolution is still recorded
            target, not_moved = None, refused.message
    record_event(card.board, "alert.resolved", actor=actor, card=card, at=at,
                 alert=known.name, fingerprint=known.fingerprint, source=known.source,
                 resolved_at=known.resolved_at.isoformat(), andon_cleared=cleared,
                 moved_to=target.name if target else None, not_moved=not_moved)
    if cleared:
        clear_andon(card, actor, at=at)
        known.pulled_andon = False
    if target is not None:
        # The andon swarm, if any, stays open: people close it with what they learned.
        move_card(card, actor, column=target, override_reason=reason, at=at, swarm="keep")


def _resolved_column(known: Alert, intake: AlertIntake):
    """Where the board moves a resolved alert's card: only forward, and only a live card."""
    target = intake.resolved_column
    if target is None or target.removed_at is not None or not _live(known.card):
        return None
    return target if target.position > known.card.column.position else None


def _refresh(known: Alert, actor, alert: ReceivedAlert) -> None:
    """A repeat of a firing alert: the card's text follows the alert's if it changed."""
    known.labels, known.severity = alert.labels, alert.severity
    card = known.card
    title, description = _title(alert), _description(alert)
    if (card.title, card.description) != (title, description) and \
            card.description.startswith(DESCRIPTION_MARK):
        update_card(card, actor, title=title, description=description)


def _open_card(board: Board, actor, alert: ReceivedAlert, via: str, at) -> Card:
    """A new incident card in the Expedite lane; in the standard lane when Expedite's hard
    limit is reached (an alert is never lost to a WIP limit; the card says why)."""
    impact, urgency = ("high", "high") if alert.severity in CRITICAL else (
        ("high", "medium") if alert.severity in SERIOUS else ("medium", "medium"))
    fields = dict(title=_title(alert), description=_description(alert), type="incident",
                  impact=impact, urgency=urgency, tags=_tags(alert), at=at)
    lanes = board_lanes(board)
    expedite = next((lane for lane in lanes if lane.class_of_service == "expedite"), None)
    column = active_columns(board)[0]
    try:
        return create_card(board, actor, lane=expedite, column=column,
                           override_reason=f"Alert intake ({via})", **fields)
    except WipLimitReached as full:
        fields["description"] += f"\n\nNot in Expedite: {full.message}"
        return create_card(board, actor, column=column, **fields)


DESCRIPTION_MARK = "**Alert**"


def _title(alert: ReceivedAlert) -> str:
    title = f"{alert.name}: {alert.summary}" if alert.summary and alert.summary != alert.name \
        else alert.name
    instance = alert.labels.get("instance")
    if instance and instance not in title:
        title += f" ({instance})"
    return " ".join(title.split())[:TITLE_MAX] or "Alert"


def _andon_reason(alert: ReceivedAlert) -> str:
    said = alert.description or alert.summary or alert.name
    reason = f"{alert.severity.capitalize() or 'An'} alert from {alert.source.capitalize()}: {said}"
    return " ".join(reason.split())[:300]


def _description(alert: ReceivedAlert) -> str:
    """The card's description: what the alert says, its labels, and links back to the source.
    It starts with DESCRIPTION_MARK while it is the alert's text (a repeat may rewrite it)."""
    lines = [f"{DESCRIPTION_MARK} from {alert.source.capitalize()}"
             + (f", severity {alert.severity}" if alert.severity else "")]
    if alert.description:
        lines += ["", alert.description]
    lines += ["", "Labels:"] + [f"- {name}: `{_code(value)}`"
                                for name, value in sorted(alert.labels.items())]
    if alert.links:
        lines += ["", " · ".join(f"[{label}]({url})" for label, url in alert.links)]
    return "\n".join(lines)[:20_000]


def _code(value: str) -> str:
    return value.replace("`", "'")


def _tags(alert: ReceivedAlert) -> list[str]:
    tags = ["alert"]
    if alert.severity and len(alert.severity) <= 40:
        tags.append(alert.severity)
    return tags
