"""Background work in the web process: what runs there when no Redis is configured.

With REDIS_URL, notifications go to RQ and `python -m workers` runs them and the periodic
jobs. Without it (the embedded default of `make run`), notifications committed during a
request are delivered when it ends, and `start_embedded_schedule` runs the periodic jobs on a
timer thread (the same services the RQ cron schedule calls).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, Response

from app.models.types import utcnow
from app.services.consults import consults
from app.services.notifications import outbox, reminders
from app.services.reports import refresh
from app.services.scheduling import expiry
from app.services.webhooks import delivery as webhook_delivery

log = logging.getLogger(__name__)
TICK_SECONDS = 30


def init_background(app: Flask) -> None:
    @app.after_request
    def deliver_committed_notifications(response: Response) -> Response:
        if not app.config.get("REDIS_URL"):
            outbox.flush_ready()  # what commits outside a use case (the payment steps)
            webhook_delivery.flush_ready()
        return response


def run_periodic_once() -> None:
    """One pass of the periodic work: expire holds and consult requests, reminders,
    undelivered notifications and webhooks; reconciling payments and refreshing the report
    rollups every tenth pass."""
    now = utcnow()
    expiry.expire(now=now)
    consults.expire(now=now)
    reminders.send_due(now=now)
    outbox.flush_ready()
    outbox.requeue_stale(now=now)
    webhook_delivery.flush_ready()
    webhook_delivery.requeue_stale(now=now)


def start_embedded_schedule(app: Flask) -> threading.Thread | None:
    """The periodic jobs on a daemon thread, for a server without REDIS_URL."""
    if app.config.get("REDIS_URL") or not app.config.get("EMBEDDED_SCHEDULE"):
        return None
    stop = threading.Event()

    def loop() -> None:
        passes = 0
        while not stop.wait(TICK_SECONDS):
            with app.app_context():
                try:
                    run_periodic_once()
                    passes += 1
                    if passes % 10 == 0:
                        expiry.reconcile(now=utcnow())
                        refresh.refresh(now=utcnow())
                except Exception:
                    log.exception("embedded schedule pass failed; next pass in %ss", TICK_SECONDS)

    thread = threading.Thread(target=loop, name="carebook-embedded-schedule", daemon=True)
    thread.start()
    return thread
