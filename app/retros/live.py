"""Retrospective sessions live: a Socket.IO room per retrospective, told after commit.

The services record `retro.*` events like every change; just before the transaction commits
the retrospectives they touched are noted, and once it has committed each room gets one
`retro_event` message ({retro, seq, types}); a rollback drops them (app/events/hooks.py). The
message carries no HTML, unlike board pushes: what a session shows differs per person (in the
write phase each reads only their own notes), so each open view fetches its own.
"""

from sqlalchemy.orm import Session

from app.broadcast import emit_to_room
from app.events import hooks

READY = "retro_pushes"


def retro_room(retro_id: int) -> str:
    return f"retro:{retro_id}"


@hooks.committing.connect
def _note_retro_pushes(session: Session, *, batch: hooks.Batch) -> None:
    touched: dict[int, dict] = {}
    for _board, event in batch.events:
        if event.type.startswith("retro.") and isinstance(event.data, dict) \
                and event.data.get("retro"):
            message = touched.setdefault(event.data["retro"], {
                "retro": event.data["retro"], "types": []})
            message["seq"] = event.seq
            message["types"].append(event.type)
    if touched:
        batch.kept[READY] = list(touched.values())


@hooks.committed.connect
def _send_retro_pushes(session: Session, *, batch: hooks.Batch) -> None:
    # The sender's page is told too, unlike on the board: htmx swaps an answer into the view
    # that sent the request, and a push may have re-rendered that view meanwhile; the fetch
    # brings the change in either way (and an older answer is not shown over a newer view).
    for message in batch.kept.get(READY, []):
        emit_to_room("retro_event", message, retro_room(message["retro"]))
