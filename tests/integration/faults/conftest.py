"""Fault tests: the app reaches PostgreSQL, Redis or localstripe through a FaultProxy
(tests/faultproxy.py) that a test cuts, stalls and restores. The shared servers themselves are
never stopped: other test runs use them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests

from app.services.accounts.tokens import issue_token
from tests.conftest import TEST_SECRET_KEY
from tests.faultproxy import FaultProxy

TIMEOUT = 30  # seconds for one request on a loaded 2-core machine


@pytest.fixture
def make_proxy():
    """FaultProxy(host, port) in front of the server of a URL; closed after the test."""
    made: list[FaultProxy] = []

    def factory(url: str) -> FaultProxy:
        parts = urlsplit(url)
        proxy = FaultProxy(parts.hostname or "127.0.0.1", parts.port)
        made.append(proxy)
        return proxy

    yield factory
    for proxy in made:
        proxy.close()


def token_for(user) -> str:
    return issue_token(user, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=datetime.now(UTC))


@dataclass(frozen=True)
class Reply:
    """One HTTP answer as the client saw it, with when it was asked and answered."""

    status: int
    body: dict
    text: str
    headers: dict
    started: float
    ended: float
    slot_id: int | None = None

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code")


def call(
    session: requests.Session, method: str, url: str, *, slot_id: int | None = None, **kwargs
) -> Reply:
    started = time.monotonic()
    response = session.request(method, url, timeout=TIMEOUT, **kwargs)
    try:
        body = response.json()
    except ValueError:
        body = {}
    return Reply(
        response.status_code,
        body if isinstance(body, dict) else {"list": body},
        response.text,
        dict(response.headers),
        started,
        time.monotonic(),
        slot_id,
    )


@dataclass
class Timeline:
    """When the fault began and ended (time.monotonic())."""

    cut_at: float = 0.0
    restored_at: float = 0.0
    notes: dict = field(default_factory=dict)

    def during(self, reply: Reply, margin: float = 0.1) -> bool:
        """Asked after the fault began and answered before it ended."""
        return reply.started > self.cut_at + margin and reply.ended < self.restored_at

    def after(self, reply: Reply) -> bool:
        return reply.started >= self.restored_at


def assert_clean_unavailable(reply: Reply, *, json: bool = True) -> None:
    """A 503 as a client should see it: Retry-After, no traceback, JSON or the error page."""
    assert reply.status == 503, (reply.status, reply.text[:300])
    assert reply.headers.get("Retry-After", "").isdigit(), reply.headers
    assert "Traceback" not in reply.text and "psycopg" not in reply.text.lower()
    if json:
        assert reply.code == "service_unavailable", reply.body
    else:
        assert reply.headers["Content-Type"].startswith("text/html")
        assert "briefly unavailable" in reply.text
