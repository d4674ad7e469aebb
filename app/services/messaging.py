"""Email and SMS leave Carebook through here, and only through here.

Email goes over SMTP (SMTP_HOST ...); without SMTP_HOST it is written to the log, which is
only acceptable for local development. SMS goes through a provider chosen by SMS_PROVIDER:
"log" (the default) writes it to the log, "twilio" posts it to Twilio's Messages API (or any
server of that shape at TWILIO_API_BASE). Message bodies may hold one-time codes or links:
they are never logged, nor put in an error, when a real transport is configured.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import threading
from dataclasses import dataclass, field
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

import requests
from flask import current_app

log = logging.getLogger(__name__)


# On the wire: CRLF line ends; long headers are not refolded (they were folded when set).
_WIRE = compat32.clone(linesep="\r\n")
# Bodies as quoted-printable UTF-8: readable in the raw mail, safe for any text.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


class DeliveryFailed(RuntimeError):
    """The transport refused or could not be reached; the caller may retry."""


@dataclass
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # (filename, bytes, content type with parameters, e.g. "text/calendar; method=REQUEST")
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)

    def build(self, sender: str) -> Message:
        """The MIME message: text and HTML alternatives, attachments beside them.

        Built with the email package's compat32 classes: three times faster than
        EmailMessage's content manager, which matters when a sweep sends thousands."""
        body = MIMEMultipart("alternative")
        body.attach(MIMEText(self.text, "plain", _UTF8))
        if self.html:
            body.attach(MIMEText(self.html, "html", _UTF8))
        message = body
        if self.attachments:
            message = MIMEMultipart("mixed")
            message.attach(body)
            for filename, content, content_type in self.attachments:
                maintype, _, rest = content_type.partition("/")
                subtype, *params = [p.strip() for p in rest.split(";")]
                part = MIMEBase(
                    maintype, subtype, **dict(p.split("=", 1) for p in params if "=" in p)
                )
                part.set_payload(content)
                encoders.encode_base64(part)
                part.add_header("Content-Disposition", "attachment", filename=filename)
                message.attach(part)
        message["From"] = _header(sender)
        message["To"] = _header(self.to)
        message["Subject"] = _header(self.subject)
        message["Date"] = formatdate(localtime=False)
        for name, value in self.headers.items():
            message[name] = _header(value)
        if "Message-ID" not in self.headers:
            message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">"))
        return message


def _header(value: str) -> str | Header:
    """ASCII as it is; anything else RFC 2047-encoded."""
    return value if value.isascii() else Header(value, "utf-8")


@dataclass(frozen=True)
class _Smtp:
    """The SMTP settings, read once in the app context (the sending threads have none)."""

    host: str | None
    port: int
    starttls: bool
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_config(cls) -> _Smtp:
        config = current_app.config
        return cls(
            config.get("SMTP_HOST"),
            config["SMTP_PORT"],
            bool(config.get("SMTP_STARTTLS")),
            config.get("SMTP_USERNAME"),
            config.get("SMTP_PASSWORD"),
            config["MAIL_FROM"],
        )

    def connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=10)
        if self.starttls:
            smtp.starttls()
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp


class EmailBatch:
    """Sends emails over persistent SMTP connections: `send` one at a time on one
    connection, `send_all` a batch spread over up to SMTP_CONNECTIONS connections at once
    (each SMTP exchange is mostly waiting for the server, so a few in parallel multiply the
    rate). A failed send drops its connection and the next send opens another, so one
    refusal does not fail the rest of the batch.
    """

    def __init__(self):
        self._settings = _Smtp.from_config()
        self._parallel = max(1, int(current_app.config.get("SMTP_CONNECTIONS", 4)))
        self._envelope_from = parseaddr(self._settings.sender)[1]
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    def __enter__(self) -> EmailBatch:
        return self

    def __exit__(self, *exc_info) -> None:
        while self._idle:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._idle.pop().quit()

    def send(self, email: Email) -> None:
        """Raises DeliveryFailed."""
        failure = self.send_all([email])[0]
        if failure is not None:
            raise failure

    def send_all(self, emails: list[Email]) -> list[DeliveryFailed | None]:
        """Send each email; the result at each position is None (sent) or why it failed."""
        raw = [email.build(self._settings.sender) for email in emails]
        if not self._settings.host:
            for email in emails:
                log.info(
                    "email (no SMTP_HOST set) to=%s subject=%s\n%s",
                    email.to,
                    email.subject,
                    email.text,
                )
            return [None] * len(emails)
        results: list[DeliveryFailed | None] = [None] * len(emails)
        lanes = min(self._parallel, len(emails))
        if lanes <= 1:
            self._send_lane(emails, raw, range(len(emails)), results)
            return results
        threads = [
            threading.Thread(
                target=self._send_lane,
                args=(emails, raw, range(lane, len(emails), lanes), results),
            )
            for lane in range(lanes)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def _send_lane(self, emails, raw, positions, results) -> None:
        smtp = None
        for i in positions:
            try:
                if smtp is None:
                    with self._lock:
                        smtp = self._idle.pop() if self._idle else None
                    smtp = smtp or self._settings.connect()
                smtp.sendmail(self._envelope_from, [emails[i].to], raw[i].as_bytes(policy=_WIRE))
            except (OSError, smtplib.SMTPException) as exc:
                if smtp is not None:
                    with contextlib.suppress(OSError, smtplib.SMTPException):
                        smtp.close()
                smtp = None
                results[i] = DeliveryFailed(
                    f"email to {emails[i].to} failed: {exc.__class__.__name__}: {exc}"
                )
                continue
            log.info("email sent to=%s subject=%s", emails[i].to, emails[i].subject)
        if smtp is not None:
            with self._lock:
                self._idle.append(smtp)


def send_email(*, to: str, subject: str, body: str, html: str | None = None) -> None:
    """One email now, on its own connection (one-time codes: the fast path)."""
    with EmailBatch() as batch:
        batch.send(Email(to=to, subject=subject, text=body, html=html))


class SmsProvider(Protocol):
    def send(self, to: str, body: str) -> None: ...


class LogSmsProvider:
    """Development provider: the message is written to the log."""

    def send(self, to: str, body: str) -> None:
        log.info("sms (log provider) to=%s\n%s", to, body)


class TwilioSmsProvider:
    """Twilio's Messages API: one form POST per text, HTTP basic auth with the account SID
    and auth token, sent From a number or through a Messaging Service (TWILIO_*).

    Any answer but 200/201, a timeout or an unreachable server raises DeliveryFailed naming
    Twilio's error code and message (never the text, which may hold a code)."""

    def __init__(self):
        config = current_app.config
        self.account_sid = config.get("TWILIO_ACCOUNT_SID") or ""
        self.auth_token = config.get("TWILIO_AUTH_TOKEN") or ""
        self.from_number = config.get("TWILIO_FROM_NUMBER")
        self.messaging_service_sid = config.get("TWILIO_MESSAGING_SERVICE_SID")
        self.api_base = (config.get("TWILIO_API_BASE") or "https://api.twilio.com").rstrip("/")
        self.timeout = float(config.get("TWILIO_TIMEOUT_SECONDS") or 10)

    def send(self, to: str, body: str) -> None:
        if not (self.account_sid and self.auth_token):
            raise DeliveryFailed("SMS not sent: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN unset")
        form = {"To": to, "Body": body}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        elif self.from_number:
            form["From"] = self.from_number
        else:
            raise DeliveryFailed("SMS not sent: set TWILIO_FROM_NUMBER or a Messaging Service")
        url = f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        shown = mask_phone(to)
        try:
            response = requests.post(
                url, data=form, auth=(self.account_sid, self.auth_token), timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise DeliveryFailed(
                f"SMS to {shown} failed: Twilio did not answer within {self.timeout:g} s"
            ) from exc
        except requests.RequestException as exc:
            # The exception names the URL and the cause, never the form (the text).
            raise DeliveryFailed(f"SMS to {shown} failed: {exc.__class__.__name__}") from exc
        if response.status_code in (200, 201):
            log.info("sms sent to=%s sid=%s", shown, _json(response).get("sid"))
            return
        error = _json(response)
        code = error.get("code")
        message = str(error.get("message") or response.reason or "")[:200]
        raise DeliveryFailed(
            f"SMS to {shown} refused: HTTP {response.status_code}"
            + (f", Twilio error {code}" if code else "")
            + (f": {message}" if message else "")
        )


def _json(response: requests.Response) -> dict:
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def mask_phone(number: str | None) -> str:
    """A phone number with its middle hidden ("+4479•••••456"): enough to tell numbers
    apart in logs and admin pages, not enough to call."""
    if not number:
        return ""
    keep_start, keep_end = (5, 3) if len(number) >= 10 else (2, 2)
    if len(number) <= keep_start + keep_end:
        return "•" * len(number)
    hidden = len(number) - keep_start - keep_end
    return number[:keep_start] + "•" * hidden + number[-keep_end:]


SMS_PROVIDERS: dict[str, type[SmsProvider]] = {
    "log": LogSmsProvider,
    "twilio": TwilioSmsProvider,
}


def send_sms(*, to: str, body: str) -> None:
    name = current_app.config.get("SMS_PROVIDER", "log")
    provider_cls = SMS_PROVIDERS.get(name)
    if provider_cls is None:
        raise DeliveryFailed(f"unknown SMS_PROVIDER {name!r}")
    provider_cls().send(to, body)
