"""Delivering webhooks: claim, sign, POST, record; retries with backoff for a day.

`deliver(ids)` is what the RQ job runs (and what runs inline without Redis). A row is claimed
by one statement (attempts + 1, claimed_at = now) before it is sent, so two workers given the
same ids post it once; a worker killed mid-job leaves a claim that lapses after
NOTIFICATION_CLAIM_LEASE_SECONDS and the sweep hands the row on again. No transaction stays
open while a receiver is waited for.

Each POST carries `Carebook-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>"
keyed with the endpoint's secret>`, `Carebook-Event` and `Carebook-Event-Id`. A 2xx is
delivered; anything else (another status, no answer, an address the guard refuses) is tried
again after BACKOFF, then `failed`. WEBHOOKS_DISABLE_AFTER deliveries of one endpoint failing
in a row disable it, and its owners (admins, staff with integrations.manage) are told through
the notification outbox in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Role,
    User,
    UserPermission,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.models import WebhookDeliveryStatus as St
from app.services import outbox_rows, sealing
from app.services.notifications import outbox
from app.services.transaction import after_each_use_case
from app.services.webhooks import addresses
from app.services.webhooks.events import NEW

log = logging.getLogger(__name__)
# Before the 2nd ... 7th attempts: the last comes about 23.6 hours after the first.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=15),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
BATCH = 20  # a job's deliveries: each may wait WEBHOOKS_TIMEOUT_SECONDS for its receiver
DELIVER_JOB = "workers.jobs.deliver_webhooks"
PERMISSION = "integrations.manage"
USER_AGENT = "Carebook-Webhooks/1"


@dataclass
class Report:
    delivered: int = 0
    skipped: int = 0
    retrying: list[int] = field(default_factory=list)
    failed: int = 0
    disabled: list[int] = field(default_factory=list)  # endpoints this run disabled


@dataclass(frozen=True)
class _Send:
    """What one POST needs, read before any receiver is waited for."""

    delivery_id: int
    endpoint_id: int
    url: str | None  # None: the endpoint is disabled, nothing goes
    secret: str
    event: str
    event_id: str
    body: str
    attempts: int


def signature(secret: str, timestamp: int, body: str) -> str:
    """The `Carebook-Signature` header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def deliver(ids: list[int], *, now: datetime) -> Report:
    """Post the pending deliveries among `ids` that nobody else holds; commits."""
    report = Report()
    claimed = ROWS.claim(ids, now)
    if not claimed:
        return report
    sends = [
        _Send(
            row.id,
            row.endpoint_id,
            row.endpoint.url if row.endpoint.enabled else None,
            sealing.unseal(row.endpoint.secret_sealed),
            row.event,
            row.event_id,
            row.body,
            row.attempts,
        )
        for row in db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.id.in_(claimed))
            .options(joinedload(WebhookDelivery.endpoint))
            .order_by(WebhookDelivery.id)
        )
    ]
    db.session.rollback()  # nothing held open while receivers answer
    outcomes = [(send, _post(send, now) if send.url is not None else None) for send in sends]
    backoff: dict[int, timedelta] = {}
    rows = {
        row.id: row
        for row in db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.id.in_(claimed))
        )
    }
    for send, outcome in outcomes:
        row = rows[send.delivery_id]
        if outcome is None:
            row.status, row.last_error, row.claimed_at = St.SKIPPED, "endpoint disabled", None
            report.skipped += 1
            continue
        code, error, duration_ms = outcome
        db.session.add(
            WebhookAttempt(
                delivery_id=row.id,
                at=now,
                response_code=code,
                error=error,
                duration_ms=duration_ms,
            )
        )
        row.response_code, row.last_error, row.claimed_at = code, error, None
        if error is None:
            row.status, row.delivered_at = St.DELIVERED, now
            _succeeded(send.endpoint_id)
            report.delivered += 1
        elif row.attempts >= MAX_ATTEMPTS:
            row.status = St.FAILED
            report.failed += 1
            log.warning("webhook delivery %s failed for good: %s", row.id, error)
            if _failed_for_good(send.endpoint_id, error, now):
                report.disabled.append(send.endpoint_id)
        else:
            row.available_at = now + BACKOFF[row.attempts - 1]
            backoff[row.id] = BACKOFF[row.attempts - 1]
            report.retrying.append(row.id)
    db.session.commit()
    ROWS.schedule_retries(backoff)
    return report


def _post(send: _Send, now: datetime) -> tuple[int | None, str | None, int]:
    """(status code, error or None when delivered, milliseconds)."""
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Carebook-Event": send.event,
        "Carebook-Event-Id": send.event_id,
        "Carebook-Delivery": str(send.delivery_id),
        "Carebook-Signature": signature(send.secret, timestamp, send.body),
    }
    try:
        answer = addresses.post(send.url, send.body.encode(), headers)
    except addresses.SendFailed as exc:
        return None, str(exc), exc.duration_ms
    if 200 <= answer.status < 300:
        return answer.status, None, answer.duration_ms
    return answer.status, f"HTTP {answer.status}", answer.duration_ms


def _succeeded(endpoint_id: int) -> None:
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.consecutive_failures != 0)
        .values(consecutive_failures=0)
        .execution_options(synchronize_session=False)
    )


def _failed_for_good(endpoint_id: int, error: str, now: datetime) -> bool:
    """Count a delivery that failed for good; past WEBHOOKS_DISABLE_AFTER in a row the
    endpoint is disabled and its owners are told. True when this call disabled it (a relative
    UPDATE, then a conditional one: two workers never both disable and tell)."""
    failures = db.session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
        .returning(WebhookEndpoint.consecutive_failures)
        .execution_options(synchronize_session=False)
    )
    limit = current_app.config.get("WEBHOOKS_DISABLE_AFTER", 5)
    if failures is None or limit <= 0 or failures < limit:
        return False
    disabled = db.session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True))
        .values(
            enabled=False,
            disabled_at=now,
            disabled_reason=f"{failures} deliveries in a row failed",
            updated_at=now,
        )
        .returning(WebhookEndpoint.id)
        .execution_options(synchronize_session=False)
    )
    if disabled is None:
        return False
    for owner in owners():
        outbox.notify(
            owner,
            "webhook.disabled",
            key=f"webhook:{endpoint_id}:disabled:{now.isoformat()}:{owner.id}",
            data={"endpoint_id": endpoint_id, "failures": failures, "error": error[:300]},
        )
    return True


def owners() -> list[User]:
    """Who looks after webhooks: active admins, and active helpers with integrations.manage
    (permissions are platform-wide, so every clinic's endpoints are theirs)."""
    granted = exists().where(
        UserPermission.user_id == User.id, UserPermission.permission == PERMISSION
    )
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.is_active.is_(True),
                or_(User.role == Role.ADMIN, and_(User.role == Role.HELPER, granted)),
            )
            .order_by(User.id)
        )
    )


# --- handing on: after the commit, and the sweep --------------------------------------------


ROWS = outbox_rows.OutboxRows(
    model=WebhookDelivery,
    pending=St.PENDING,
    deliverable=(),
    queue="webhooks",
    job=DELIVER_JOB,
    batch=BATCH,
    retry_job="webhook-retry",
    new_key=NEW,  # events.emit adds the new deliveries' ids
    ready_key="carebook_webhooks_ready",
    noun="webhook",
    row_noun="webhook delivery",
    deliver=lambda ids, now: deliver(ids, now=now).delivered,
    log=log,
)
enqueue = ROWS.enqueue  # (ids, *, round_="new") -> bool: False when Redis is down
requeue_stale = ROWS.requeue_stale  # (*, now) -> int: the sweep, how many went on
stale_after = outbox_rows.stale_after


@after_each_use_case
def flush_ready() -> int:
    """Deliver, in this process, what committed without a queue (the embedded default): run
    after each use case and at the end of each request. Never raises: what it cannot deliver
    stays pending for the sweep."""
    return ROWS.flush_ready()
