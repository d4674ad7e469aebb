"""Pushing events to connected browsers and API clients (Socket.IO), after the commit.

A service calls `publish(room, event, payload)` inside its use case; nothing leaves before the
transaction commits, and a rollback drops it (a client never hears of a change that did not
happen). After the commit each event is emitted through Flask-SocketIO: to this process's
sockets, and with SOCKETIO_MESSAGE_QUEUE through Redis to every server process (an RQ worker
emits the same way).

Rooms are chosen by the server, never by a client, and named here:
- `user_room(user_id)`: every socket of one signed-in user (joined on connect);
- `doctor_slots_room(doctor_id)`: a doctor's public page (slot ids and states only, never who
  booked them).
Payloads carry ids and states, never another patient's personal data.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db, socketio

log = logging.getLogger(__name__)
_PENDING = "carebook_realtime_pending"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def doctor_slots_room(doctor_id: int) -> str:
    return f"doctor:{doctor_id}:slots"


def publish(room: str, event_name: str, payload: dict) -> None:
    """Emit `event_name` with `payload` to `room` once the current transaction commits."""
    db.session.info.setdefault(_PENDING, []).append((room, event_name, payload))


@event.listens_for(Session, "after_commit")
def _emit_committed(session: Session) -> None:
    for room, event_name, payload in session.info.pop(_PENDING, ()):
        try:
            socketio.emit(event_name, payload, to=room)
        except Exception:  # a push is best effort: the page also polls or reloads
            log.exception("could not emit %s to %s", event_name, room)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
