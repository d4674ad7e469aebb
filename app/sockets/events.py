"""The Socket.IO handlers of the infrastructure: connect and disconnect on "/", the public
namespace and its `watch_doctor`. Chat events go in their own module on top of these and ask
`socket_user()` who is speaking."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import wraps

from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room, rooms

from app.auth import owes_steps, user_for_bearer
from app.extensions import socketio
from app.services import realtime
from app.services.errors import DomainError
from app.services.scheduling.appointments import public_doctor

log = logging.getLogger(__name__)

_TOKEN = "socket_bearer_token"  # in the socket's own session (server memory), never a cookie
_USER_ID = "socket_user_id"
MAX_WATCHED_DOCTORS = 20  # a page watches one; a client may not subscribe to the whole list

REFUSED = "Sign in, or connect with auth={'token': '<API bearer token>'}."


def socket_user():
    """The user this socket speaks for, checked again now (a session signed out or a token
    revoked since the connection no longer counts), or None."""
    token = session.get(_TOKEN)
    if token:
        user = user_for_bearer(token)
    else:
        user = current_user if current_user.is_authenticated else None
    if user is None or owes_steps(user):
        return None
    return user


@socketio.on("connect")
def connect(auth=None):
    token = auth.get("token") if isinstance(auth, dict) else None
    if token is not None and not isinstance(token, str):
        raise ConnectionRefusedError(REFUSED)
    if token:
        session[_TOKEN] = token
    user = socket_user()
    if user is None:
        raise ConnectionRefusedError(REFUSED)
    session[_USER_ID] = user.id
    join_room(realtime.user_room(user.id))
    realtime.socket_connected(user.id, request.sid)
    _start_heartbeat()
    return True


_DISCONNECT_HOOKS: list = []


def on_disconnect(hook):
    """Register `hook(user_id)`, run when a signed-in socket goes (in its own socket session:
    the video rooms it entered are left, app/sockets/visits.py). A hook must not raise."""
    _DISCONNECT_HOOKS.append(hook)
    return hook


@socketio.on("disconnect")
def disconnect(reason=None):
    user_id = session.get(_USER_ID)
    if user_id is not None:
        realtime.socket_disconnected(user_id, request.sid)
        for hook in _DISCONNECT_HOOKS:
            hook(user_id)


@socketio.on("connect", namespace=realtime.PUBLIC_NAMESPACE)
def connect_public(auth=None):
    return True  # public: what is emitted here is public too


@socketio.on("watch_doctor", namespace=realtime.PUBLIC_NAMESPACE)
def watch_doctor(data=None):
    """Follow a listed doctor's slots: `slot` {"slot_id", "state"} events from now on.
    Acknowledged with {"ok": true} or {"ok": false, "error": {"code", "message"}}."""
    doctor_id = an_id(data, "doctor_id")
    if doctor_id is None:
        return ack_error("invalid_input", "doctor_id is a doctor's id.")
    try:
        doctor = public_doctor(doctor_id)
    except DomainError as exc:
        return ack_error(exc.code, exc.message)
    room = realtime.doctor_slots_room(doctor.id)
    watched = [r for r in rooms(namespace=realtime.PUBLIC_NAMESPACE) if r != request.sid]
    if room not in watched and len(watched) >= MAX_WATCHED_DOCTORS:
        return ack_error(
            "too_many_rooms", f"A socket watches at most {MAX_WATCHED_DOCTORS} doctors."
        )
    join_room(room, namespace=realtime.PUBLIC_NAMESPACE)
    return {"ok": True}


def ack_error(code: str, message: str) -> dict:
    """A refusal as every event acknowledges it."""
    return {"ok": False, "error": {"code": code, "message": message}}


def an_id(data, key: str) -> int | None:
    """`data[key]` when it is a row id (a positive 32-bit integer, not a bool), else None."""
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
        return None
    return value


def _domain_refusal(exc: DomainError) -> dict:
    return ack_error(exc.code, exc.message)


def acked(refusal: Callable[[DomainError], dict] = _domain_refusal):
    """Decorate an event handler `handler(user_id, data) -> ack` of the signed-in namespace:
    the socket's user is checked again first, a DomainError becomes `refusal(exc)` and any
    other failure a "server_error" ack (logged), so the client always gets its answer."""

    def decorator(handler):
        @wraps(handler)
        def run(data=None):
            user = socket_user()
            if user is None:
                return ack_error("unauthorized", "Sign in again: this socket no longer has a user.")
            try:
                return handler(user.id, data)
            except DomainError as exc:
                return refusal(exc)
            except Exception:  # never out of the handler: the client waits for its ack
                log.exception("socket event %s failed", handler.__name__)
                return ack_error("server_error", "Something went wrong: try again.")

        return run

    return decorator


_heartbeat = threading.Lock()
_heartbeat_running = False


def _start_heartbeat() -> None:
    """Once per process: renew this process's sockets in the presence set (realtime)."""
    global _heartbeat_running
    with _heartbeat:
        if _heartbeat_running:
            return
        _heartbeat_running = True
    socketio.start_background_task(_beat, current_app._get_current_object())


def _beat(app) -> None:
    while True:
        socketio.sleep(realtime.HEARTBEAT_SECONDS)
        try:
            with app.app_context():
                realtime.renew_presence()
        except Exception:  # keep beating: the next renewal may work
            log.exception("presence heartbeat failed")
