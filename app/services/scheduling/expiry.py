"""The clock's jobs: holds and requests that ran out of time end, then their card intents are
released and the open payments reconciled with Stripe. Booking decides what lapsed; payments
settle the money after (so payments never needs to know the booking rules).

Both are safe to run at any time, twice or side by side (`flask expire-holds`,
`flask reconcile-payments`).
"""

from __future__ import annotations

from datetime import datetime

from app.services.payments import jobs
from app.services.payments.jobs import JobReport
from app.services.scheduling import booking


def expire(*, now: datetime) -> JobReport:
    """Expire lapsed holds and requests no doctor answered in time, then release the card
    intents of everything that ended uncharged."""
    report = JobReport(
        expired_holds=booking.expire_lapsed_holds(now=now),
        lapsed_requests=booking.expire_unanswered_requests(now=now),
    )
    return jobs.release_ended_intents(now=now, report=report)


def reconcile(*, now: datetime) -> JobReport:
    """`expire`, then settle every open payment with Stripe and send refunds still owed."""
    return jobs.reconcile_open_payments(now=now, report=expire(now=now))
