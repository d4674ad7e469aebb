"""Delivering outbox rows: claim, render, send, record; retries with backoff.

`deliver(ids)` is what the RQ job runs (and what runs inline without Redis). A row is claimed
by one statement (attempts + 1, claimed_at = now) before anything is sent, so two workers
given the same ids send each row once; a worker killed mid-job leaves a claim that lapses
after the claim lease, and the sweep hands the row on again. Email leaves over one SMTP
connection per batch. A transport error puts the row back with a backoff, up to
MAX_ATTEMPTS; then it is `failed` with its last error (the admin log shows it).

Exactly once holds between the outbox and the transport up to one gap no outbox closes: a
worker killed after the SMTP server accepted a mail and before the row was marked sent sends
it again after the lease. Such a repeat carries the same Message-ID, which mail systems use
to drop duplicates.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.i18n import current_locale, recipient_locale, speaking
from app.models import Appointment, Doctor, Notification, NotificationChannel, NotificationStatus
from app.services import messaging
from app.services.notifications import (  # noqa: F401 — registers the kinds
    catalogue,
    chat_kinds,
)
from app.services.notifications.kinds import KINDS, Gone, Message
from app.services.notifications.preferences import unsubscribe_url
from app.services.outbox_rows import OutboxRows

log = logging.getLogger(__name__)
C = NotificationChannel
St = NotificationStatus
MAX_ATTEMPTS = 3
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2))  # before the 2nd and 3rd attempts
BATCH = 100
DELIVER_JOB = "workers.jobs.deliver_notifications"


@dataclass
class Report:
    sent: int = 0
    skipped: int = 0
    retrying: list[int] = field(default_factory=list)
    failed: int = 0


def deliver(ids: list[int], *, now: datetime) -> Report:
    """Deliver the pending rows among `ids` that nobody else holds; commits."""
    report = Report()
    claimed = ROWS.claim(ids, now)
    if not claimed:
        return report
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.id.in_(claimed))
        .options(joinedload(Notification.user))
        .order_by(Notification.id)
    ).all()
    loaded = _prefetch_appointments(rows)  # held: the session keeps only weak references
    outcomes: dict[int, tuple[NotificationStatus, str | None]] = {}
    emails: list[tuple[int, messaging.Email]] = []
    for row in rows:  # render everything (and send texts), then mail the batch at once
        outcome, email = _prepare(row)
        if email is not None:
            emails.append((row.id, email))
        else:
            outcomes[row.id] = outcome
    with messaging.EmailBatch() as mail:
        failures = mail.send_all([email for _, email in emails])
    for (row_id, _), failure in zip(emails, failures, strict=True):
        outcomes[row_id] = (St.SENT, None) if failure is None else (St.PENDING, str(failure))
    del loaded
    for row in rows:
        status, error = outcomes[row.id]
        if status is St.SENT:
            row.status, row.sent_at, row.last_error = St.SENT, now, None
            row.data = {k: v for k, v in row.data.items() if not k.endswith("_sealed")}
            report.sent += 1
        elif status is St.SKIPPED:
            row.status, row.last_error = St.SKIPPED, error
            report.skipped += 1
        elif row.attempts >= MAX_ATTEMPTS:
            row.status, row.last_error = St.FAILED, error
            report.failed += 1
            log.warning("notification %s failed for good: %s", row.id, error)
        else:
            row.claimed_at, row.last_error = None, error
            row.available_at = now + BACKOFF[row.attempts - 1]
            report.retrying.append(row.id)
    backoff = {row.id: row.available_at - now for row in rows if row.id in report.retrying}
    db.session.commit()
    ROWS.schedule_retries(backoff)
    return report


def _prefetch_appointments(rows: list[Notification]) -> list[Appointment]:
    """Load the batch's appointments with what the renderers read, in one statement, so a
    renderer's lookups hit the session instead of the database row by row."""
    ids = {r.data["appointment_id"] for r in rows if isinstance(r.data.get("appointment_id"), int)}
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.id.in_(ids))
            .options(
                joinedload(Appointment.patient),
                joinedload(Appointment.slot),
                joinedload(Appointment.doctor).joinedload(Doctor.user),
                joinedload(Appointment.doctor).joinedload(Doctor.clinic),
            )
        ).unique()
    )


Outcome = tuple[NotificationStatus, str | None]


def _prepare(row: Notification) -> tuple[Outcome | None, messaging.Email | None]:
    """Render one row: the email to send, or the outcome already (skipped, a text sent, a
    failure to retry)."""
    spec = KINDS.get(row.kind)
    try:
        if spec is None:
            raise LookupError(f"unknown notification kind {row.kind!r}")
        if spec.still_relevant is not None and not spec.still_relevant(row.data):
            return (St.SKIPPED, "no longer relevant"), None
        # In the recipient's language, whoever's request (or worker) delivers it.
        with speaking(row_locale(row)):
            message = spec.render(row.data, row.user)
            if row.channel is C.EMAIL:
                return None, email_for(row, message)
            if message.sms is None:
                return (St.SKIPPED, "this kind has no text message"), None
            sms = message.sms
        messaging.send_sms(to=row.destination, body=sms)
    except Gone as exc:
        return (St.SKIPPED, str(exc)), None
    except messaging.DeliveryFailed as exc:
        return (St.PENDING, str(exc)), None
    except Exception as exc:  # a bug in one renderer must not lose the batch
        log.exception("notification %s could not be rendered", row.id)
        return (St.PENDING, f"{exc.__class__.__name__}: {exc}"), None
    return (St.SENT, None), None


def row_locale(row: Notification) -> str:
    """The recipient's language: the account's (app/i18n.py), or for an address without an
    account the one its notice recorded (a doctor's application)."""
    if row.user is not None:
        return recipient_locale(row.user)
    return (row.data or {}).get("locale") or recipient_locale(None)


def message_id(row: Notification) -> str:
    """Stable per notification: a repeated delivery is recognisably the same mail."""
    digest = hashlib.sha256(row.dedupe_key.encode()).hexdigest()[:16]
    return f"<notification-{row.id}.{digest}@{_sender_domain()}>"


def email_for(row: Notification, message: Message) -> messaging.Email:
    spec = KINDS[row.kind]
    unsubscribe = (
        None
        if spec.essential or row.user_id is None
        else unsubscribe_url(row.user_id, spec.category)
    )
    context = {
        "message": message,
        "user": row.user,
        "unsubscribe": unsubscribe,
        "locale": current_locale(),
    }
    headers = {"Message-ID": message_id(row)}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    attachments = []
    if message.ics is not None:
        ics = message.ics()
        method = "CANCEL" if b"METHOD:CANCEL" in ics else "REQUEST"
        attachments.append(("invite.ics", ics, f"text/calendar; method={method}"))
    return messaging.Email(
        to=row.destination or row.user.email,
        subject=message.subject,
        # The Jinja environment itself: the page context processors (navigation, the unread
        # count) have nothing to do in a mail.
        text=current_app.jinja_env.get_template("email/notification.txt").render(context),
        html=current_app.jinja_env.get_template("email/notification.html").render(context),
        headers=headers,
        attachments=attachments,
    )


def _sender_domain() -> str:
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or "carebook.invalid"


# How the outbox hands rows on (outbox.py) and how this module claims them: in-app rows are
# delivered by being stored, so neither hands on nor claims one.
ROWS = OutboxRows(
    model=Notification,
    pending=St.PENDING,
    deliverable=(Notification.channel != C.IN_APP,),
    queue="notifications",
    job=DELIVER_JOB,
    batch=BATCH,
    retry_job="notification-retry",
    new_key="carebook_outbox_new",
    ready_key="carebook_outbox_ready",
    noun="notification",
    row_noun="notification",
    deliver=lambda ids, now: deliver(ids, now=now).sent,
    log=log,
)
