"""The video room's Socket.IO events on namespace "/": entering and leaving the room, and
the WebRTC signalling (offer, answer, ICE candidates) relayed to the other participant only.

Every event is authorised like the room's page, at the time of the event: the socket's user
(checked again) is the appointment's patient or doctor, the appointment is a confirmed video
visit, and its room is open now. Signalling also needs this socket to have entered the room
(`visit_join`). What is relayed goes to the other participant's visit room
(realtime.visit_room), which only their sockets that entered the room are in.

- `visit_join` {"appointment_id"} → ack {"ok": true, "side": "patient" | "doctor",
  "peer_present": bool, "peer_name", "ice_servers": [...]} (ICE servers with fresh TURN
  credentials); the other side hears `visit_peer` {"appointment_id", "user_id",
  "state": "joined"};
- `visit_leave` {"appointment_id"} → ack {"ok": true}; the other side hears `visit_peer`
  with "state": "left" (a disconnect leaves too);
- `visit_offer` / `visit_answer` {"appointment_id", "session", "description": {"type",
  "sdp"}} and `visit_candidate` {"appointment_id", "session", "candidate": {...} | null} →
  ack {"ok": true}; the other participant gets the same event with "from": the sender's
  user id. "session" is the sender's own id of this entry into the room (static/js/visit.js:
  a new one on each join, so the other side tells a rejoin from a late message).

A refusal is acknowledged {"ok": false, "error": {"code", "message"}}: "unauthorized",
"visit_not_found" (missing, not a video visit, or not yours), "visit_not_open" (before or
after its window), "not_joined", "invalid_input".
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from functools import wraps

from flask import request, session
from flask_socketio import join_room, leave_room

from app.extensions import socketio
from app.services import realtime
from app.services.visits import ice, presence, rooms
from app.sockets.events import ack_error, acked, an_id, on_disconnect

log = logging.getLogger(__name__)

_JOINED = "visit_rooms"  # this socket's entered rooms (appointment ids), in its session
MAX_SDP_CHARS = 100_000
MAX_CANDIDATE_CHARS = 2_000
SESSION = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _handled(handler):
    """`acked` on a valid appointment id: `handler(user_id, appointment_id, data)`."""

    @wraps(handler)
    def with_appointment(user_id: int, data) -> dict:
        appointment_id = an_id(data, "appointment_id")
        if appointment_id is None:
            return ack_error("invalid_input", "appointment_id is an appointment's id.")
        return handler(user_id, appointment_id, data)

    return acked()(with_appointment)


def _entered() -> list[int]:
    return list(session.get(_JOINED, []))


@socketio.on("visit_join")
@_handled
def visit_join(user_id: int, appointment_id: int, data) -> dict:
    now = datetime.now(UTC)
    room = realtime.visit_room(appointment_id, user_id)
    join_room(room)  # first: an offer sent as soon as the other side hears of us reaches us
    try:
        joined = presence.record_join(
            appointment_id=appointment_id, user_id=user_id, socket_id=request.sid, now=now
        )
    except BaseException:
        leave_room(room)
        raise
    session[_JOINED] = sorted({*_entered(), appointment_id})
    visit = joined.visit
    return {
        "ok": True,
        "side": visit.side.value,
        "peer_present": joined.peer_present,
        "peer_name": visit.other_name,
        "ice_servers": ice.ice_servers_for(user_id, now),
    }


@socketio.on("visit_leave")
@_handled
def visit_leave(user_id: int, appointment_id: int, data) -> dict:
    leave_room(realtime.visit_room(appointment_id, user_id))
    session[_JOINED] = [a for a in _entered() if a != appointment_id]
    presence.record_leave(
        appointment_id=appointment_id,
        user_id=user_id,
        socket_id=request.sid,
        now=datetime.now(UTC),
    )
    return {"ok": True}


def _relay(event: str, user_id: int, appointment_id: int, data: dict, payload: dict) -> dict:
    """Send one signalling message to the other participant, if this may be sent now."""
    visit = rooms.open_visit(appointment_id=appointment_id, user_id=user_id, now=datetime.now(UTC))
    if appointment_id not in _entered():
        return ack_error("not_joined", "Join the visit (visit_join) before signalling.")
    entry = data.get("session")
    if not isinstance(entry, str) or not SESSION.fullmatch(entry):
        return ack_error(
            "invalid_input", "session is the sender's entry id (1-64 letters, digits)."
        )
    socketio.emit(
        event,
        {"appointment_id": appointment_id, "from": user_id, "session": entry, **payload},
        to=realtime.visit_room(appointment_id, visit.other_user_id),
        namespace=realtime.USER_NAMESPACE,
    )
    return {"ok": True}


def _description(data, kind: str) -> dict | None:
    description = data.get("description")
    if not isinstance(description, dict):
        return None
    sdp = description.get("sdp")
    if description.get("type") != kind or not isinstance(sdp, str) or len(sdp) > MAX_SDP_CHARS:
        return None
    return {"type": kind, "sdp": sdp}


@socketio.on("visit_offer")
@_handled
def visit_offer(user_id: int, appointment_id: int, data) -> dict:
    description = _description(data, "offer")
    if description is None:
        return ack_error(
            "invalid_input", 'Send {"appointment_id", "description": {"type": "offer", "sdp"}}.'
        )
    return _relay("visit_offer", user_id, appointment_id, data, {"description": description})


@socketio.on("visit_answer")
@_handled
def visit_answer(user_id: int, appointment_id: int, data) -> dict:
    description = _description(data, "answer")
    if description is None:
        return ack_error(
            "invalid_input", 'Send {"appointment_id", "description": {"type": "answer", "sdp"}}.'
        )
    return _relay("visit_answer", user_id, appointment_id, data, {"description": description})


def _candidate(data) -> tuple[bool, dict | None]:
    """(valid, candidate): an RTCIceCandidateInit, or None (the end of candidates)."""
    if "candidate" not in data:
        return False, None
    candidate = data["candidate"]
    if candidate is None:
        return True, None
    if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
        return False, None
    if len(candidate["candidate"]) > MAX_CANDIDATE_CHARS:
        return False, None
    mid, index, fragment = (
        candidate.get("sdpMid"),
        candidate.get("sdpMLineIndex"),
        candidate.get("usernameFragment"),
    )
    if mid is not None and (not isinstance(mid, str) or len(mid) > 64):
        return False, None
    if index is not None and (
        not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1024
    ):
        return False, None
    if fragment is not None and (not isinstance(fragment, str) or len(fragment) > 256):
        return False, None
    return True, {
        "candidate": candidate["candidate"],
        "sdpMid": mid,
        "sdpMLineIndex": index,
        "usernameFragment": fragment,
    }


@socketio.on("visit_candidate")
@_handled
def visit_candidate(user_id: int, appointment_id: int, data) -> dict:
    valid, candidate = _candidate(data)
    if not valid:
        return ack_error(
            "invalid_input",
            'Send {"appointment_id", "candidate": {"candidate", "sdpMid", ...} or null}.',
        )
    return _relay("visit_candidate", user_id, appointment_id, data, {"candidate": candidate})


@on_disconnect
def _leave_rooms(user_id: int) -> None:
    """A socket that goes leaves the rooms it entered (logged, the other side told)."""
    now = datetime.now(UTC)
    for appointment_id in _entered():
        try:
            presence.record_leave(
                appointment_id=appointment_id, user_id=user_id, socket_id=request.sid, now=now
            )
        except Exception:  # the rest still leave; the log misses one "left"
            log.exception("could not record leaving visit %s", appointment_id)
