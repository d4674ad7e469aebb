"""Pushing events to connected browsers and API clients (Socket.IO), after the commit; and
who has a socket connected now (presence).

A service calls `publish(room, event, payload)` inside its use case; nothing leaves before the
transaction commits, and a rollback drops it (a client never hears of a change that did not
happen). After the commit each event is emitted through Flask-SocketIO: to this process's
sockets, and with SOCKETIO_MESSAGE_QUEUE through Redis to every server process (an RQ worker
emits the same way, write-only).

Rooms are chosen by the server, never by a client, and named here:
- `user_room(user_id)`: every socket of one signed-in user (joined on connect), on the
  authenticated namespace "/";
- `visit_room(appointment_id, user_id)`: one participant's sockets that entered that
  appointment's video room (joined only after services/visits allowed it), on "/": the
  WebRTC signalling of the visit goes to the other participant's room only;
- `doctor_slots_room(doctor_id)`: a doctor's public page (slot ids and states only, never who
  booked them), on the namespace PUBLIC_NAMESPACE, which anonymous visitors may join too.
Payloads carry ids and states, never another patient's personal data.

Presence (`is_connected`) is counted per socket: in Redis when SOCKETIO_MESSAGE_QUEUE or
REDIS_URL is set (so every server process and worker sees the same answer; an entry lives
PRESENCE_TTL seconds unless the socket's process renews it, so a crashed process's sockets
fade out), in this process otherwise (one server process, jobs inline).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db, socketio
from app.services import queues

log = logging.getLogger(__name__)
_PENDING = "carebook_realtime_pending"
_DROPPING = "carebook_realtime_dropping"  # users whose sockets end after the commit

USER_NAMESPACE = "/"
PUBLIC_NAMESPACE = "/public"
_PUBLIC_ROOM = "public:"  # rooms with this prefix live on PUBLIC_NAMESPACE

# A socket counts as connected this long after its last heartbeat (its process renews it
# every HEARTBEAT_SECONDS while the socket stays open).
PRESENCE_TTL = 60
HEARTBEAT_SECONDS = 20


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def visit_room(appointment_id: int, user_id: int) -> str:
    return f"visit:{appointment_id}:user:{user_id}"


def doctor_slots_room(doctor_id: int) -> str:
    return f"{_PUBLIC_ROOM}doctor:{doctor_id}:slots"


def namespace_for(room: str) -> str:
    """The Socket.IO namespace a room lives on."""
    return PUBLIC_NAMESPACE if room.startswith(_PUBLIC_ROOM) else USER_NAMESPACE


def publish(room: str, event_name: str, payload: dict) -> None:
    """Emit `event_name` with `payload` to `room` once the current transaction commits."""
    db.session.info.setdefault(_PENDING, []).append((room, event_name, payload))


def disconnect_user(user_id: int) -> None:
    """Once the current transaction commits, end every socket of `user_id` on the user
    namespace, in every server process (a sign-out, a revoked session or token, a password,
    2FA or role change). Each socket was authorised when it connected; after a revocation
    it must not keep hearing the user's private events. The pages connect again at once,
    and only a browser still signed in is let back in."""
    db.session.info.setdefault(_DROPPING, set()).add(user_id)


@event.listens_for(Session, "after_commit")
def _emit_committed(session: Session) -> None:
    for room, event_name, payload in session.info.pop(_PENDING, ()):
        try:
            socketio.emit(event_name, payload, to=room, namespace=namespace_for(room))
        except Exception:  # a push is best effort: the page also polls or reloads
            log.exception("could not emit %s to %s", event_name, room)
    for user_id in session.info.pop(_DROPPING, ()):
        _disconnect_sockets(user_id)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_DROPPING, None)


def _disconnect_sockets(user_id: int) -> None:
    """Disconnect the user's sockets: this process's directly, those of other processes
    through the message queue (their ids are in the presence set)."""
    with _local_lock:
        sids = set(_local.get(user_id, ()))
    redis = _presence_redis()
    if redis is not None:
        try:
            sids.update(s.decode() for s in redis.zrange(_presence_key(user_id), 0, -1))
        except RedisError as exc:
            log.warning("presence: could not list the sockets of user %s (%s)", user_id, exc)
    server = getattr(socketio, "server", None)
    if server is None:  # Socket.IO is not set up in this process (the embedded CLI, say)
        return
    for sid in sids:
        try:
            server.disconnect(sid, namespace=USER_NAMESPACE)
        except Exception:
            log.exception("could not disconnect socket %s of user %s", sid, user_id)


# -- presence -------------------------------------------------------------------------------

_local: dict[int, set[str]] = {}  # this process's sockets: user id -> socket ids
_local_lock = threading.Lock()


def _presence_key(user_id: int) -> str:
    return f"carebook:presence:{user_id}"


def _presence_redis():
    if not has_app_context():
        return None
    url = current_app.config.get("SOCKETIO_MESSAGE_QUEUE") or current_app.config.get("REDIS_URL")
    return queues.redis_connection(url) if url else None


def _mark(redis, entries: Iterable[tuple[int, str]]) -> None:
    now = time.time()
    pipe = redis.pipeline(transaction=False)
    for user_id, sid in entries:
        pipe.zremrangebyscore(_presence_key(user_id), "-inf", now)  # sockets that faded out
        pipe.zadd(_presence_key(user_id), {sid: now + PRESENCE_TTL})
        pipe.expire(_presence_key(user_id), PRESENCE_TTL)
    pipe.execute()


def socket_connected(user_id: int, sid: str) -> None:
    """A socket of `user_id` connected to this process (app/sockets calls this)."""
    with _local_lock:
        _local.setdefault(user_id, set()).add(sid)
    redis = _presence_redis()
    if redis is not None:
        try:
            _mark(redis, [(user_id, sid)])
        except RedisError:
            log.warning("presence: could not record socket %s of user %s", sid, user_id)


def socket_disconnected(user_id: int, sid: str) -> None:
    with _local_lock:
        sids = _local.get(user_id, set())
        sids.discard(sid)
        if not sids:
            _local.pop(user_id, None)
    redis = _presence_redis()
    if redis is not None:
        try:
            redis.zrem(_presence_key(user_id), sid)
        except RedisError as exc:
            log.warning("presence: could not drop socket %s of user %s (%s)", sid, user_id, exc)


def renew_presence() -> int:
    """Renew this process's sockets in Redis (a heartbeat); returns how many."""
    with _local_lock:
        entries = [(user_id, sid) for user_id, sids in _local.items() for sid in sids]
    redis = _presence_redis()
    if redis is not None and entries:
        try:
            _mark(redis, entries)
        except RedisError:
            log.warning("presence: heartbeat of %s socket(s) failed", len(entries))
    return len(entries)


def is_connected(user_id: int) -> bool:
    """Whether the user has at least one socket connected to any server process now (False
    when Redis cannot say: the caller then notifies them another way)."""
    redis = _presence_redis()
    if redis is None:
        with _local_lock:
            return bool(_local.get(user_id))
    try:
        return redis.zcount(_presence_key(user_id), time.time(), "+inf") > 0
    except RedisError:
        log.warning("presence: could not ask Redis about user %s", user_id)
        return False
