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

import logging
from datetime import UTC, datetime

from app.extensions import socketio
from app.services import realtime
from app.services.chat import messages
from app.services.errors import DomainError, NotFound
from app.sockets.events import socket_user

log = logging.getLogger(__name__)


def _error(code: str, message: str) -> dict:
    return {"ok": False, "error": {"code": code, "message": message}}


def _refusal(exc: DomainError) -> dict:
    if isinstance(exc, NotFound):
        return _error("not_found", "No such conversation (or not one of yours).")
    return _error(exc.code, exc.message)


def _an_id(data, key: str) -> int | None:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        return None
    return value


def _handled(handler):
    """Run the event for its user; map every refusal (and any failure) to an ack."""

    def run(data=None):
        user = socket_user()
        if user is None:
            return _error("unauthorized", "Sign in again: this socket no longer has a user.")
        try:
            return handler(user.id, data)
        except DomainError as exc:
            return _refusal(exc)
        except Exception:  # never out of the handler: the client waits for its ack
            log.exception("chat socket event failed")
            return _error("server_error", "Something went wrong: try again.")

    run.__name__ = handler.__name__
    return run


@socketio.on("send_message")
@_handled
def send_message(user_id: int, data) -> dict:
    conversation_id = _an_id(data, "conversation_id")
    body = data.get("body") if isinstance(data, dict) else None
    if conversation_id is None:
        return _error("invalid_input", "conversation_id is a conversation's id.")
    if not isinstance(body, str):
        return _error("invalid_input", 'Send {"conversation_id", "body": "..."}.')
    message = messages.send_message(
        conversation_id=conversation_id, sender_id=user_id, body=body, now=datetime.now(UTC)
    )
    return {"ok": True, "message": messages.message_payload(message)}


@socketio.on("mark_read")
@_handled
def mark_read(user_id: int, data) -> dict:
    conversation_id = _an_id(data, "conversation_id")
    up_to_id = _an_id(data, "up_to_id")
    if conversation_id is None or up_to_id is None:
        return _error("invalid_input", "conversation_id and up_to_id are ids.")
    marked = messages.mark_read(
        conversation_id=conversation_id, reader_id=user_id, up_to_id=up_to_id, now=datetime.now(UTC)
    )
    return {"ok": True, "marked": marked}


@socketio.on("typing")
@_handled
def typing(user_id: int, data) -> dict:
    conversation_id = _an_id(data, "conversation_id")
    if conversation_id is None:
        return _error("invalid_input", "conversation_id is a conversation's id.")
    other_id = messages.other_side(conversation_id=conversation_id, user_id=user_id)
    socketio.emit(
        "typing",
        {"conversation_id": conversation_id, "user_id": user_id},
        to=realtime.user_room(other_id),
        namespace=realtime.USER_NAMESPACE,
    )
    return {"ok": True}
