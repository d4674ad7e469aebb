"""Refunds: by the cancellation policy, granted by staff, and moved with a reschedule.

A refund is decided in the transaction that cancels (Payment.refund_target, from the policy
value the booking guards used: scheduling/policy.py) and sent to Stripe right after the commit
(settle.issue_owed_refund); when Stripe cannot be reached the refund stays owed and the
reconciliation job sends it. So a cancelled appointment never keeps money it should not.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext
from sqlalchemy import select, update

from app.extensions import db
from app.models import Appointment, Payment, PaymentStatus
from app.services import access, audit
from app.services.errors import Forbidden, InvalidInput, PaymentNotFound
from app.services.payments import settle
from app.services.payments.settle import (
    PaymentProviderUnavailable,
    issue_owed_refund,
    live_payment,
)
from app.services.transaction import transaction

if TYPE_CHECKING:
    from app.services.scheduling.policy import Policy

log = logging.getLogger(__name__)
P = PaymentStatus


def decide_cancellation_refund(appointment: Appointment, rules: Policy) -> Payment | None:
    """In the cancelling transaction: decide the refund by the policy `rules` (no network, no
    commit). Returns the payment whose intent or refund `settle_after_cancellation` must send."""
    payment = live_payment(appointment.id, lock=True)
    if payment is None:
        return None
    if payment.amount_captured > 0:
        share = rules.refund_for(payment.amount_captured)
        # A refund already granted counts towards what the policy gives back.
        payment.refund_target = max(payment.refund_target or 0, payment.amount_refunded, share)
        audit.record(
            "payment.refund_decided",
            actor_id=None,
            target_type="payment",
            target_id=payment.id,
            data={"refund": payment.refund_target, "by_patient": rules.by_patient},
        )
    return payment


def settle_after_cancellation(*, appointment_id: int, now: datetime) -> None:
    """After a cancellation committed: release an uncaptured intent or send the refund.
    Stripe being down is not an error here: the reconciliation job finishes it."""
    payments = db.session.scalars(
        select(Payment).where(
            Payment.appointment_id == appointment_id,
            Payment.stripe_payment_intent_id.is_not(None),
            Payment.status.in_((P.REQUIRES_PAYMENT, P.AUTHORIZED)),
        )
    ).all()
    try:
        for payment in payments:
            settle.settle(payment.stripe_payment_intent_id, now, release_unpaid=True)
    except PaymentProviderUnavailable:
        log.warning("intent release of appointment %s left to reconciliation", appointment_id)
    owed = db.session.scalars(
        select(Payment.id).where(
            Payment.appointment_id == appointment_id,
            Payment.refund_target > Payment.amount_refunded,
        )
    ).all()
    for payment_id in owed:
        issue_owed_refund(payment_id=payment_id, now=now)


def move_payments(*, from_appointment_id: int, to_appointment_id: int) -> None:
    """Reschedule: the payment goes with the appointment to its new slot (nobody pays twice).
    In the caller's transaction."""
    db.session.execute(
        update(Payment)
        .where(Payment.appointment_id == from_appointment_id)
        .values(appointment_id=to_appointment_id)
        .execution_options(synchronize_session=False)
    )


def refundable_amount(payment: Payment) -> int:
    """What staff may still refund: captured, less what is refunded or already decided."""
    return max(
        0, payment.amount_captured - max(payment.amount_refunded, payment.refund_target or 0)
    )


def refund_payment(
    *, payment_id: int, amount: int, actor_id: int, reason: str | None, now: datetime
) -> Payment:
    """Staff refund part or all of a captured payment (payments.refund).

    Raises Forbidden, PaymentNotFound, InvalidInput, PaymentProviderUnavailable (then the
    refund stays owed and reconciliation sends it).
    """
    with transaction():  # decided and recorded first; Stripe is called after the commit
        actor = access.load_actor(actor_id)
        if not access.has_permission(actor, "payments.refund"):
            raise Forbidden(gettext("You may not refund payments."))
        payment = db.session.scalar(
            select(Payment).where(Payment.id == payment_id).with_for_update()
        )
        if payment is None:
            raise PaymentNotFound()
        refundable = refundable_amount(payment)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise InvalidInput(gettext("Enter an amount above zero."), field="amount")
        if amount > refundable:
            raise InvalidInput(
                gettext(
                    "At most %(refundable)s (%(currency)s minor units) can be refunded.",
                    refundable=refundable,
                    currency=payment.currency,
                ),
                field="amount",
            )
        payment.refund_target = max(payment.amount_refunded, payment.refund_target or 0) + amount
        audit.record(
            "payment.refund_granted",
            actor_id=actor_id,
            target_type="payment",
            target_id=payment.id,
            data={"amount": amount, "reason": (reason or "")[:255]},
        )
    if issue_owed_refund(payment_id=payment.id, now=now, actor_id=actor_id) == 0:
        raise PaymentProviderUnavailable(
            gettext(
                "The refund is recorded but Stripe could not be reached; it will be sent shortly."
            )
        )
    return db.session.get(Payment, payment_id)
