"""Live servers with Socket.IO over a Redis message queue, and python-socketio clients."""

from __future__ import annotations

import queue
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import socketio

from tests import servers, services
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD


@pytest.fixture(scope="module")
def socket_queue():
    """The Redis URL the servers of this module share as SOCKETIO_MESSAGE_QUEUE."""
    services.redis_client()  # skip, or fail under CI, without Redis
    return services.TEST_REDIS_URL


@pytest.fixture(scope="module")
def realtime_servers(app, database_url, socket_queue):
    """Two gunicorn servers (two gevent workers each) on the test database, sharing Redis."""
    env = {"SOCKETIO_MESSAGE_QUEUE": socket_queue}
    started = [
        servers.start_app_server(database_url, TEST_SECRET_KEY, env=env, what=f"server {n}")
        for n in (1, 2)
    ]
    yield [base_url for _, base_url in started]
    for process, _ in started:
        servers.stop(process)


@pytest.fixture
def realtime_server(realtime_servers):
    return realtime_servers[0]


EVENTS = (
    "slot",
    "appointment",
    "unread_notifications",
    "ping",
    "message",
    "read",
    "typing",
    "unread",
    "visit_peer",
    "visit_presence",
    "visit_offer",
    "visit_answer",
    "visit_candidate",
)


class Listener:
    """A python-socketio client that records what it hears, by event name."""

    def __init__(self, namespaces=("/",)):
        self.client = socketio.Client(reconnection=False)
        self.heard: dict[str, queue.Queue] = {}
        self.namespaces = list(namespaces)
        for namespace in self.namespaces:
            for event in EVENTS:
                self.client.on(event, self._recorder(event), namespace=namespace)

    def _recorder(self, event):
        box = self.heard.setdefault(event, queue.Queue())
        return box.put

    def connect(self, base_url, *, cookie=None, token=None):
        self.client.connect(
            base_url,
            headers={"Cookie": cookie} if cookie else {},
            auth={"token": token} if token else None,
            namespaces=self.namespaces,
            transports=["websocket"],  # several workers, no sticky sessions: no polling
            wait_timeout=10,
        )
        return self

    def next(self, event, timeout=10.0):
        return self.heard.setdefault(event, queue.Queue()).get(timeout=timeout)

    def nothing(self, event, timeout=1.0) -> bool:
        try:
            self.heard.setdefault(event, queue.Queue()).get(timeout=timeout)
        except queue.Empty:
            return True
        return False

    def call(self, event, data, timeout=10):
        """Emit `event` on "/" and return the server's acknowledgement."""
        return self.client.call(event, data, timeout=timeout)

    def close(self):
        self.client.disconnect()


@pytest.fixture
def listeners():
    made = []

    def make(namespaces=("/",)):
        listener = Listener(namespaces)
        made.append(listener)
        return listener

    yield make
    for listener in made:
        listener.close()


def session_cookie(client, email: str) -> str:
    """Sign in through the test client (same database and secret as the servers) and return
    the session cookie as a Cookie header value."""
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    name = client.application.config["SESSION_COOKIE_NAME"]
    return f"{name}={client.get_cookie(name).value}"


def future(days=3, hour=10):
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def run_worker_burst(database_url: str, socket_queue: str) -> subprocess.CompletedProcess:
    """`python -m workers --burst` on the test database, emitting through socket_queue."""
    import os  # noqa: PLC0415

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "REDIS_URL": socket_queue,
        "SOCKETIO_MESSAGE_QUEUE": socket_queue,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "workers", "--burst"],
        cwd=servers.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
