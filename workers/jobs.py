"""The jobs RQ runs: thin wrappers that take ids or nothing, call a service, return a summary.

The periodic ones run at most once per tick across every worker and scheduler (`once_per`):
two `python -m workers` processes each run a cron scheduler, and the second enqueue of a tick
does nothing. Their services are safe side by side anyway (row locks, dedupe keys); the tick
lock keeps them from doing the work twice.
"""

from __future__ import annotations

import logging
import time
from functools import wraps

from flask import current_app

from app.models.types import utcnow
from app.services import queues
from app.services.consults import consults
from app.services.notifications import delivery, outbox, reminders
from app.services.reports import refresh
from app.services.scheduling import expiry
from app.services.webhooks import delivery as webhook_delivery

log = logging.getLogger(__name__)


def once_per(seconds: int):
    """Run the decorated periodic job at most once per `seconds`-long tick (a Redis lock)."""

    def decorate(job):
        @wraps(job)
        def run():
            url = current_app.config.get("REDIS_URL")
            if url:
                tick = int(time.time() // seconds)
                key = f"carebook:tick:{job.__name__}:{tick}"
                if not queues.redis_connection(url).set(key, "1", nx=True, ex=seconds * 2):
                    return f"{job.__name__}: tick {tick} already ran"
            return job()

        run.interval = seconds
        return run

    return decorate


def deliver_notifications(ids: list[int]) -> str:
    report = delivery.deliver(ids, now=utcnow())
    return (
        f"sent {report.sent}, skipped {report.skipped}, "
        f"retrying {len(report.retrying)}, failed {report.failed}"
    )


def deliver_webhooks(ids: list[int]) -> str:
    report = webhook_delivery.deliver(ids, now=utcnow())
    return (
        f"delivered {report.delivered}, skipped {report.skipped}, "
        f"retrying {len(report.retrying)}, failed {report.failed}"
    )


@once_per(60)
def send_reminders() -> str:
    return f"{reminders.send_due(now=utcnow())} reminder(s) written"


@once_per(30)
def dispatch_outbox() -> str:
    now = utcnow()
    notifications = outbox.requeue_stale(now=now)
    webhooks = webhook_delivery.requeue_stale(now=now)
    return f"{notifications} notification(s) and {webhooks} webhook delivery(ies) handed on again"


@once_per(30)
def expire_holds() -> str:
    report = expiry.expire(now=utcnow())
    return f"expired {report.expired_holds} hold(s), {report.lapsed_requests} request(s)"


@once_per(30)
def expire_consults() -> str:
    expired, released = consults.expire(now=utcnow())
    return f"expired {expired} consult request(s), released {released} card hold(s)"


@once_per(300)
def reconcile_payments() -> str:
    report = expiry.reconcile(now=utcnow())
    return f"settled {sum(report.settled.values())}, refunded {report.refunded}"


@once_per(600)
def refresh_reports() -> str:
    done = refresh.refresh(now=utcnow())
    return f"report rollups: {done.days} clinic-day(s) recounted, {done.rows} row(s)"


PERIODIC = (
    send_reminders,
    dispatch_outbox,
    expire_holds,
    expire_consults,
    reconcile_payments,
    refresh_reports,
)
