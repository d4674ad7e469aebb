"""Payment jobs: release the intents of appointments that ended uncharged, and reconcile the
open payments with Stripe. The appointments' side (which holds and requests have lapsed) is
scheduling/expiry.py, which runs these after it.

Both work payment by payment through `settle.settle` (row locks, Stripe re-read), so they are
safe to run twice and side by side, and alongside the webhook and the checkout pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Payment, PaymentProvider, PaymentStatus
from app.services.payments.settle import (
    KEPT,
    PaymentProviderUnavailable,
    issue_owed_refund,
    settle,
)
from app.services.scheduling.occupancy import HOLD

log = logging.getLogger(__name__)
S = AppointmentStatus
P = PaymentStatus
# Pending payments younger than this are a patient still at checkout: leave them alone.
RECONCILE_GRACE = HOLD


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
            report.count(settle(intent_id, now, release_unpaid=True).result)
        except PaymentProviderUnavailable:
            report.failures += 1
        except Exception:  # one bad payment must not stop the others
            db.session.rollback()
            log.exception("settling %s failed", intent_id)
            report.failures += 1


def release_ended_intents(*, now: datetime, report: JobReport) -> JobReport:
    """Cancel the intents of appointments that ended uncharged: holds lapsed or released,
    requests rejected or lapsed (an intent authorized meanwhile still confirms when its slot is
    free). A request still awaiting approval keeps its authorisation."""
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


def reconcile_open_payments(*, now: datetime, report: JobReport) -> JobReport:
    """Compare the payments still open with Stripe and settle them: pending ones past the
    hold, captured ones without a kept appointment, refunds still owed."""
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
