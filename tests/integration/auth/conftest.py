"""A real SMTP server (aiosmtpd on a free port) and an app that sends its email there.

Text messages go to an in-memory provider registered for the test (SMS_PROVIDER=test).
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from app.services import messaging

CODE = re.compile(r"\b(\d{6})\b")
LINK = re.compile(r"(https?://\S+/password/(?:reset|set)\?token=\S+)")


@dataclass
class Received:
    to: str
    subject: str
    body: str


class Inbox:
    """What the SMTP server received, newest last."""

    def __init__(self):
        self.messages: list[Received] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",)).get_content()
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append(Received(rcpt, str(message["Subject"]), body))
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.to == address]

    def last_code(self, address: str) -> str:
        messages = self.to(address)
        assert messages, f"no email to {address}"
        return CODE.search(messages[-1].body).group(1)

    def last_link(self, address: str) -> str:
        messages = self.to(address)
        assert messages, f"no email to {address}"
        return LINK.search(messages[-1].body).group(1)

    def clear(self):
        with self._lock:
            self.messages.clear()


class Outbox:
    """Text messages 'sent' by the test SMS provider."""

    messages: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> None:
        Outbox.messages.append((to, body))

    @classmethod
    def last_code(cls, number: str) -> str:
        bodies = [body for to, body in cls.messages if to == number]
        assert bodies, f"no SMS to {number}"
        return CODE.search(bodies[-1]).group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def inbox(smtp_server):
    smtp_server.handler.clear()
    yield smtp_server.handler
    smtp_server.handler.clear()


@pytest.fixture
def sms(monkeypatch):
    monkeypatch.setitem(messaging.SMS_PROVIDERS, "test", Outbox)
    Outbox.messages = []
    return Outbox


@pytest.fixture
def mail_app(make_app, database_url, smtp_server, sms, ctx):
    """The app with SMTP pointed at the test server; rate limits off (see limited_app)."""
    return make_app(
        database_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMS_PROVIDER="test",
    )


@pytest.fixture
def limited_app(make_app, database_url, smtp_server, sms, ctx):
    """As mail_app, with the rate limits on (fresh in-memory counters)."""
    return make_app(
        database_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMS_PROVIDER="test",
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
    )


@pytest.fixture
def web(mail_app):
    """A browser-like client of mail_app."""
    return mail_app.test_client()
