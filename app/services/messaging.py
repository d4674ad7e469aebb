"""Email and SMS leave Carebook through here, and only through here.

Email goes over SMTP (SMTP_HOST ...); without SMTP_HOST it is written to the log, which is
only acceptable for local development. SMS goes through a provider chosen by SMS_PROVIDER;
"log" (the default) writes it to the log. Message bodies may hold one-time codes or links:
they are never logged when a real transport is configured.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from flask import current_app

log = logging.getLogger(__name__)


class DeliveryFailed(RuntimeError):
    """The transport refused or could not be reached; the caller may retry."""


def send_email(*, to: str, subject: str, body: str, html: str | None = None) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    if not config.get("SMTP_HOST"):
        log.info("email (no SMTP_HOST set) to=%s subject=%s\n%s", to, subject, body)
        return
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"email to {to} failed: {exc.__class__.__name__}") from exc
    log.info("email sent to=%s subject=%s", to, subject)


class SmsProvider(Protocol):
    def send(self, to: str, body: str) -> None: ...


class LogSmsProvider:
    """Development provider: the message is written to the log."""

    def send(self, to: str, body: str) -> None:
        log.info("sms (log provider) to=%s\n%s", to, body)


SMS_PROVIDERS: dict[str, type[SmsProvider]] = {"log": LogSmsProvider}


def send_sms(*, to: str, body: str) -> None:
    name = current_app.config.get("SMS_PROVIDER", "log")
    provider_cls = SMS_PROVIDERS.get(name)
    if provider_cls is None:
        raise DeliveryFailed(f"unknown SMS_PROVIDER {name!r}")
    provider_cls().send(to, body)
