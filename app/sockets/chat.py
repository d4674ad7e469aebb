"""The chat's Socket.IO events on namespace "/", each authorised like the REST call it
mirrors (the socket's user is checked again at every event):

- `send_message` {"conversation_id", "body"} → ack {"ok": true, "message": {...}} (the
  REST API's message); the message is committed first, then emitted as `message` to both
  participants' rooms by the service;
- `mark_read` {"conversation_id", "up_to_id"} → ack {"ok": true, "marked": n};
- `typing` {"conversation_id"} → `typing` {"conversation_id", "user_id"} to the other
  participant's room only; ack {"ok": true}.

A refusal is acknowledged {"ok": false, "error": {"code", "message"}}, never raised:
"unauthorized" (signed out or revoked since connecting), "not_found" (missing or not
yours), "invalid_input", or the service's own code (e.g. "too_many_messages").
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.extensions import socketio
from app.services import realtime
from app.services.chat import messages
from app.services.errors import DomainError, NotFound
from app.sockets.events import ack_error, acked, an_id


def _refusal(exc: DomainError) -> dict:
    if isinstance(exc, NotFound):
        return ack_error("not_found", "No such conversation (or not one of yours).")
    return ack_error(exc.code, exc.message)


_handled = acked(_refusal)


@socketio.on("send_message")
@_handled
def send_message(user_id: int, data) -> dict:
    conversation_id = an_id(data, "conversation_id")
    body = data.get("body") if isinstance(data, dict) else None
    if conversation_id is None:
        return ack_error("invalid_input", "conversation_id is a conversation's id.")
    if not isinstance(body, str):
        return ack_error("invalid_input", 'Send {"conversation_id", "body": "..."}.')
    message = messages.send_message(
        conversation_id=conversation_id, sender_id=user_id, body=body, now=datetime.now(UTC)
    )
    return {"ok": True, "message": messages.message_payload(message)}


@socketio.on("mark_read")
@_handled
def mark_read(user_id: int, data) -> dict:
    conversation_id = an_id(data, "conversation_id")
    up_to_id = an_id(data, "up_to_id")
    if conversation_id is None or up_to_id is None:
        return ack_error("invalid_input", "conversation_id and up_to_id are ids.")
    marked = messages.mark_read(
        conversation_id=conversation_id, reader_id=user_id, up_to_id=up_to_id, now=datetime.now(UTC)
    )
    return {"ok": True, "marked": marked}


@socketio.on("typing")
@_handled
def typing(user_id: int, data) -> dict:
    conversation_id = an_id(data, "conversation_id")
    if conversation_id is None:
        return ack_error("invalid_input", "conversation_id is a conversation's id.")
    other_id = messages.other_side(conversation_id=conversation_id, user_id=user_id)
    socketio.emit(
        "typing",
        {"conversation_id": conversation_id, "user_id": user_id},
        to=realtime.user_room(other_id),
        namespace=realtime.USER_NAMESPACE,
    )
    return {"ok": True}
