"""Payment jobs: expire lapsed holds (cancelling their intents) and reconcile with Stripe.

Both work payment by payment through `payments._settle` (row locks, Stripe re-read), so they
are safe to run twice and side by side, and alongside the webhook and the checkout pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Payment, PaymentProvider, PaymentStatus
from app.services.payments.cards import KEPT, PaymentProviderUnavailable, _settle
from app.services.payments.refunds import issue_owed_refund
from app.services.scheduling import booking

log = logging.getLogger(__name__)
S = AppointmentStatus
P = PaymentStatus
# Pending payments younger than this are a patient still at checkout: leave them alone.
RECONCILE_GRACE = timedelta(minutes=booking.HOLD_MINUTES)


@dataclass
class JobReport:
    expired_holds: int = 0
    lapsed_requests: int = 0
    settled: dict[str, int] = field(default_factory=dict)
    refunded: int = 0
    failures: int = 0

    def count(self, result: str) -> None:
        self.settled[result] = self.settled.get(result, 0) + 1


def _settle_each(intent_ids: list[str], now: datetime, report: JobReport) -> None:
    for intent_id in intent_ids:
        try:
            report.count(_settle(intent_id, now, release_unpaid=True).result)
        except PaymentProviderUnavailable:
            report.failures += 1
        except Exception:  # one bad payment must not stop the others
            db.session.rollback()
            log.exception("settling %s failed", intent_id)
            report.failures += 1


def expire_lapsed_holds(*, now: datetime) -> JobReport:
    """Expire lapsed holds and requests no doctor answered in time, then cancel the intents of
    those that ended uncharged (an intent authorized meanwhile still confirms when its slot is
    free). A request still awaiting approval keeps its authorisation."""
    report = JobReport(
        expired_holds=booking.expire_lapsed_holds(now=now),
        lapsed_requests=booking.expire_unanswered_requests(now=now),
    )
    intent_ids = db.session.scalars(
        select(Payment.stripe_payment_intent_id)
        .join(Appointment, Payment.appointment_id == Appointment.id)
        .where(
            Payment.provider == PaymentProvider.STRIPE,
            Payment.status.in_((P.REQUIRES_PAYMENT, P.AUTHORIZED)),
            Appointment.status != S.PENDING_APPROVAL,
            or_(
                Appointment.status != S.PENDING_PAYMENT,
                Appointment.hold_expires_at <= now,
            ),
        )
        .order_by(Payment.id)
    ).all()
    db.session.rollback()
    _settle_each(intent_ids, now, report)
    return report


def reconcile_payments(*, now: datetime) -> JobReport:
    """Compare the payments still open with Stripe and settle them: pending ones past the
    hold, captured ones without a kept appointment, refunds still owed."""
    report = expire_lapsed_holds(now=now)
    intent_ids = db.session.scalars(
        select(Payment.stripe_payment_intent_id)
        .join(Appointment, Payment.appointment_id == Appointment.id)
        .where(
            Payment.provider == PaymentProvider.STRIPE,
            or_(
                and_(
                    Payment.status.in_((P.REQUIRES_PAYMENT, P.AUTHORIZED)),
                    Payment.created_at <= now - RECONCILE_GRACE,
                ),
                and_(
                    Payment.amount_captured > 0,
                    Payment.refund_target.is_(None),
                    Appointment.status.not_in(KEPT),
                ),
            ),
        )
        .order_by(Payment.id)
    ).all()
    owed = db.session.scalars(
        select(Payment.id).where(Payment.refund_target > Payment.amount_refunded)
    ).all()
    db.session.rollback()
    _settle_each(intent_ids, now, report)
    for payment_id in owed:
        if issue_owed_refund(payment_id=payment_id, now=now):
            report.refunded += 1
        else:
            report.failures += 1
    return report
