"""The notification log for staff: search every row of the outbox, and retry a failed one.

Reading changes nothing. `retry` is one use case: the row goes back to pending (attempts 0,
due now, unclaimed), the retry is audited, and after the commit the row is handed on the way
the outbox hands on new rows (RQ with REDIS_URL, else delivered in this process).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Notification, NotificationChannel, NotificationStatus, User
from app.services import audit, like
from app.services.errors import Conflict, InvalidInput, NotificationNotFound
from app.services.messaging import mask_phone
from app.services.notifications import delivery, outbox
from app.services.notifications.kinds import KINDS
from app.services.transaction import transaction

PER_PAGE = 50
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class LogQuery:
    user: str | None = None  # part of the recipient's email or name
    kind: str | None = None
    channel: NotificationChannel | None = None
    status: NotificationStatus | None = None
    since: date | None = None  # inclusive, UTC days of creation
    until: date | None = None  # inclusive


def kind_names() -> list[str]:
    """Every kind the catalogue knows, for the filter."""
    return sorted(KINDS)


def search(query: LogQuery, *, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """Notifications matching `query`, newest first, with their recipient.
    Raises InvalidInput for a date range that ends before it starts."""
    if query.since and query.until and query.since > query.until:
        raise InvalidInput(gettext("The start of the range is after its end."), field="since")
    statement = (
        select(Notification)
        .options(joinedload(Notification.user))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if query.user and query.user.strip():
        # An email to someone without an account (no user) is found by its address.
        statement = statement.outerjoin(Notification.user).where(
            or_(
                like.contains(User.email, query.user, ignore_case=False),
                like.contains(User.name, query.user),
                and_(
                    Notification.user_id.is_(None),
                    like.contains(Notification.destination, query.user, ignore_case=False),
                ),
            )
        )
    if query.kind:
        statement = statement.where(Notification.kind == query.kind)
    if query.channel is not None:
        statement = statement.where(Notification.channel == query.channel)
    if query.status is not None:
        statement = statement.where(Notification.status == query.status)
    if query.since:
        statement = statement.where(
            Notification.created_at >= datetime.combine(query.since, time(0), UTC)
        )
    if query.until:
        end = datetime.combine(query.until + timedelta(days=1), time(0), UTC)
        statement = statement.where(Notification.created_at < end)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)


def shown_destination(row: Notification) -> str:
    """Where it went, as staff see it: emails whole, phone numbers with the middle hidden."""
    if row.destination is None:
        return ""
    if row.channel is NotificationChannel.SMS:
        return mask_phone(row.destination)
    return row.destination


class RetryOutcome(enum.StrEnum):
    SENT = "sent"  # delivered in this process (no queue configured)
    QUEUED = "queued"  # on the notifications queue for a worker
    PENDING = "pending"  # handed on but not delivered yet (a new failure, or Redis down)


def retry(notification_id: int, *, actor_id: int, now: datetime) -> RetryOutcome:
    """Put a failed notification back in the outbox and hand it on after the commit.
    Raises NotificationNotFound, Conflict (it has not failed: nothing to retry)."""
    with transaction():
        row = db.session.scalar(
            select(Notification).where(Notification.id == notification_id).with_for_update()
        )
        if row is None:
            raise NotificationNotFound()
        if row.status is not NotificationStatus.FAILED:
            raise Conflict(
                gettext(
                    "Only a failed notification can be retried; this one is %(value)s.",
                    value=row.status.value,
                )
            )
        audit.record(
            "notification.retried",
            actor_id=actor_id,
            target_type="notification",
            target_id=row.id,
            data={"kind": row.kind, "channel": row.channel.value, "attempts": row.attempts},
        )
        # last_error stays until a delivery succeeds: it says why the row needed a retry.
        row.status = NotificationStatus.PENDING
        row.attempts = 0
        row.available_at = now
        row.claimed_at = None
    if current_app.config.get("REDIS_URL"):
        return RetryOutcome.QUEUED if outbox.enqueue([notification_id]) else RetryOutcome.PENDING
    report = delivery.deliver([notification_id], now=now)
    return RetryOutcome.SENT if report.sent else RetryOutcome.PENDING
