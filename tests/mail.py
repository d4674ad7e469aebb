"""Email and SMS as tests see them: an inbox behind a real SMTP server (aiosmtpd) and an
outbox for the test SMS provider."""

from __future__ import annotations

import email
import email.message
import email.policy
import re
import threading
import time
from dataclasses import dataclass

CODE = re.compile(r"\b(\d{6})\b")
LINK = re.compile(r"(https?://\S+/password/(?:reset|set)\?token=\S+)")


@dataclass
class Received:
    to: str
    subject: str
    body: str
    message: email.message.EmailMessage | None = None  # the whole mail: headers, parts

    def attachment(self, filename: str) -> bytes | None:
        for part in self.message.iter_attachments():
            if part.get_filename() == filename:
                return part.get_content()
        return None


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
                self.messages.append(Received(rcpt, str(message["Subject"]), body, message))
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


def wait_for_code(inbox: Inbox, address: str, count: int, seconds: float = 10) -> str:
    """The code in the `count`-th email to `address`, once it has arrived."""
    deadline = time.monotonic() + seconds
    while len(inbox.to(address)) < count:
        assert time.monotonic() < deadline, f"email {count} to {address} never came"
        time.sleep(0.1)
    return inbox.last_code(address)
