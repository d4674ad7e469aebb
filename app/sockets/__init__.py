"""Socket.IO: the server's options, who may connect, the rooms a socket is put in, presence.

- Namespace "/" (the default, what the chat uses): authenticated on connect, by the browser's
  live server-side session (the Flask-Login cookie, the same checks as a page: revoked or idle
  sessions are refused) or by `auth={"token": "<API bearer token>"}`; refused otherwise. Each
  socket joins its own user's room, and no event lets a client join any other room.
- Namespace "/public": anyone, signed in or not, for the one public feed there is: a listed
  doctor's slot states (`watch_doctor`). Nothing personal is ever emitted there.

The async mode follows the server: gevent under gunicorn's gevent worker (which monkey-patches
the standard library before it loads the app), threads otherwise (`flask run`, tests' in-process
apps, the RQ worker). With SOCKETIO_MESSAGE_QUEUE (Redis) every process emits to every other's
sockets; an app built with SOCKETIO_WRITE_ONLY (the RQ worker) only publishes to that queue.
"""

from __future__ import annotations

import sys

import socketio as socketio_server
from flask import Flask

from app.extensions import socketio


def async_mode() -> str:
    """gevent when the process runs monkey-patched (gunicorn -k gevent), else threading."""
    monkey = sys.modules.get("gevent.monkey")
    return "gevent" if monkey is not None and monkey.is_module_patched("socket") else "threading"


def init_sockets(app: Flask) -> None:
    options: dict = {"async_mode": async_mode()}
    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    if queue and app.config.get("SOCKETIO_WRITE_ONLY"):
        # Emit through Redis without listening to it: no subscriber thread in the worker.
        options["client_manager"] = socketio_server.RedisManager(
            queue, channel="flask-socketio", write_only=True
        )
    else:
        options["message_queue"] = queue
    socketio.init_app(app, **options)

    from app.sockets import chat, events, visits  # noqa: F401, PLC0415 — registers the handlers
