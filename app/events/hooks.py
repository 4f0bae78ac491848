"""Where features hook into changes: every change is an event, and subscribers are told of it.

The core (events, boards, cards) records events and knows no subscriber. A feature that reacts
to a change (the live push, swarm rooms, a swarm ending with its card, and later notifications
or webhooks) connects a function to one of these signals when its module is imported
(app/__init__.py imports them all):

In the transaction
- `recorded` (sender: the board; `event`, `session`, `decisions`): as each event is written.
  `decisions` are what the person said that the event does not store (what becomes of a
  finished card's open swarm). A subscriber may write more in the same transaction, or refuse
  the whole change by raising a DomainError: the caller rolls everything back, the event too.
- `committing` (sender: the session; `batch`): once, just before the commit, with every event
  the transaction recorded, in order. The last moment to read what the transaction wrote, e.g.
  to render it once for every viewer; what a subscriber prepares for after the commit goes in
  `batch.kept`.

After the commit
- `committed` (sender: the session; `batch`): once the events are stored for good. Never sent
  for a transaction that rolled back: its batch, and all kept with it, is dropped. A subscriber
  that fails here is logged and the others are still told: the change itself is stored.

Writes nobody watches (seeding a demo's history) run `muted`: subscribers in the transaction
still hold the rules, but the events are not announced at commit.
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field

from blinker import Namespace
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

_signals = Namespace()
recorded = _signals.signal("event-recorded")
committing = _signals.signal("events-committing")
committed = _signals.signal("events-committed")

BATCH = "sb_event_batch"
MUTED = "sb_events_muted"


@dataclass
class Batch:
    """The events one transaction recorded, in order, as (board, event) pairs; and what the
    subscribers prepared in the transaction for after its commit, by their own keys."""

    events: list[tuple] = field(default_factory=list)
    kept: dict = field(default_factory=dict)


def tell_recorded(session: Session, board, event, decisions: dict) -> None:
    """Called by record_event, in the transaction, for each event it writes."""
    if not session.info.get(MUTED):
        session.info.setdefault(BATCH, Batch()).events.append((board, event))
    recorded.send(board, event=event, session=session, decisions=decisions)


@contextmanager
def muted(session: Session):
    """Events written inside are not announced after the commit (no pushes)."""
    session.info[MUTED] = True
    try:
        yield
    finally:
        session.info.pop(MUTED, None)
        session.info.pop(BATCH, None)


@sa_event.listens_for(Session, "before_commit")
def _tell_committing(session: Session) -> None:
    batch = session.info.get(BATCH)
    if batch is not None and batch.events:
        session.flush()  # what subscribers read is what the commit will store
        committing.send(session, batch=batch)


@sa_event.listens_for(Session, "after_commit")
def _tell_committed(session: Session) -> None:
    batch = session.info.pop(BATCH, None)
    if batch is None or not batch.events:
        return
    for receiver in committed.receivers_for(session):
        try:
            receiver(session, batch=batch)
        except Exception:  # the change is stored: one failing subscriber must not undo the rest
            logging.getLogger(__name__).exception("A subscriber failed after a commit")


@sa_event.listens_for(Session, "after_rollback")
def _drop_batch(session: Session) -> None:
    session.info.pop(BATCH, None)
