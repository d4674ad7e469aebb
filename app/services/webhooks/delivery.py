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

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import and_, event, exists, or_, select, update
from sqlalchemy.orm import Session, joinedload

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
from app.models.types import utcnow
from app.services import queues, sealing
from app.services.notifications import outbox
from app.services.notifications.delivery import claim_lease
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

_READY = "carebook_webhooks_ready"  # committed ids waiting to be delivered inline


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
    claimed = _claim(ids, now)
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
    _schedule_retries(backoff)
    return report


def _claim(ids: list[int], now: datetime) -> list[int]:
    claimed = db.session.scalars(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_(ids),
            WebhookDelivery.status == St.PENDING,
            WebhookDelivery.available_at <= now,
            or_(
                WebhookDelivery.claimed_at.is_(None),
                WebhookDelivery.claimed_at < now - claim_lease(),
            ),
        )
        .values(claimed_at=now, attempts=WebhookDelivery.attempts + 1)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return list(claimed)


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


def _schedule_retries(backoff: dict[int, timedelta]) -> None:
    """With a queue, each retry is a delayed job; without, the periodic sweep finds it."""
    if not backoff or not current_app.config.get("REDIS_URL"):
        return
    for row_id, delay in backoff.items():
        try:
            queues.enqueue(
                DELIVER_JOB,
                [row_id],
                queue="webhooks",
                in_=delay,
                retry=False,
                job_id=f"webhook-retry-{row_id}-{int(delay.total_seconds())}",
            )
        except RedisError as exc:
            log.warning("retry of webhook delivery %s left to the sweep: %s", row_id, exc)


# --- handing on: after the commit, and the sweep --------------------------------------------


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    ids = session.info.pop(NEW, None)
    if not ids or not has_app_context():
        return
    if current_app.config.get("REDIS_URL"):
        enqueue(ids)
    else:
        session.info.setdefault(_READY, []).extend(ids)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(NEW, None)


def enqueue(ids: list[int], *, round_: str = "new") -> bool:
    """Put deliveries on the `webhooks` queue, BATCH a job; False (they stay pending for the
    sweep) when Redis cannot be reached."""
    try:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            queues.enqueue(
                DELIVER_JOB,
                chunk,
                queue="webhooks",
                job_id=f"webhooks-{round_}-{chunk[0]}-{chunk[-1]}-{len(chunk)}",
                retry=False,  # delivery retries itself, row by row
            )
    except RedisError as exc:
        log.warning("could not enqueue %d webhook(s), the sweep will: %s", len(ids), exc)
        return False
    return True


@after_each_use_case
def flush_ready() -> int:
    """Deliver, in this process, what committed without a queue (the embedded default): run
    after each use case and at the end of each request. Never raises: what it cannot deliver
    stays pending for the sweep."""
    ids = db.session.info.pop(_READY, None)
    if not ids:
        return 0
    try:
        return deliver(ids, now=utcnow()).delivered
    except Exception:
        db.session.rollback()
        log.exception("inline delivery of %d webhook(s) failed; the sweep retries", len(ids))
        return 0


def stale_after() -> timedelta:
    return timedelta(seconds=current_app.config.get("NOTIFICATION_STALE_SECONDS", 60))


def requeue_stale(*, now: datetime) -> int:
    """Hand on again every pending delivery that is due and was not handed on within
    `stale_after()` (a lost enqueue, a retry whose delayed job is gone, no queue at all) or
    whose worker's claim lapsed; returns how many."""
    ids = list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == St.PENDING,
                or_(
                    and_(
                        WebhookDelivery.claimed_at.is_(None),
                        WebhookDelivery.available_at <= now - stale_after(),
                    ),
                    WebhookDelivery.claimed_at < now - claim_lease(),
                ),
            )
            .order_by(WebhookDelivery.id)
            .limit(10 * BATCH)
        )
    )
    db.session.rollback()
    if not ids:
        return 0
    if current_app.config.get("REDIS_URL"):
        return len(ids) if enqueue(ids, round_=f"sweep{int(now.timestamp()) // 30}") else 0
    return deliver(ids, now=now).delivered
