"""Refunds: the cancellation policy, refunds staff grant, and sending what is owed.

A refund is decided in the transaction that cancels (Payment.refund_target) and sent to Stripe
right after the commit; when Stripe cannot be reached the refund stays owed and the
reconciliation job sends it. So a cancelled appointment never keeps money it should not.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

from app.extensions import db
from app.models import Appointment, Payment, PaymentStatus, Refund
from app.services import access, audit, notifications
from app.services.errors import Forbidden, InvalidInput
from app.services.payments import gateway
from app.services.payments.cards import (
    PaymentNotFound,
    PaymentProviderUnavailable,
    live_payment,
    status_from_amounts,
    sync_ledger,
)

log = logging.getLogger(__name__)
P = PaymentStatus


def cancellation_refund(
    *,
    amount_captured: int,
    by_patient: bool,
    now: datetime,
    deadline: datetime,
    late_percent: int | None,
) -> int:
    """How much of a captured fee a cancellation gives back (minor units): all of it before
    the deadline or when the doctor or clinic cancels; inside the window the clinic's
    late-cancellation percent (None, no late online cancelling: nothing), rounded down."""
    if not by_patient or now < deadline:
        return amount_captured
    return amount_captured * (late_percent or 0) // 100


def decide_cancellation_refund(
    appointment: Appointment, *, by_patient: bool, now: datetime
) -> Payment | None:
    """In the cancelling transaction: decide the refund by policy (no network, no commit).
    Returns the payment whose intent or refund `settle_after_cancellation` must send."""
    from app.services.scheduling.booking import change_deadline, late_cancellation_percent

    payment = live_payment(appointment.id, lock=True)
    if payment is None:
        return None
    if payment.amount_captured > 0:
        policy = cancellation_refund(
            amount_captured=payment.amount_captured,
            by_patient=by_patient,
            now=now,
            deadline=change_deadline(appointment),
            late_percent=late_cancellation_percent(appointment),
        )
        # A refund already granted counts towards what the policy gives back.
        payment.refund_target = max(payment.refund_target or 0, payment.amount_refunded, policy)
        audit.record(
            "payment.refund_decided",
            actor_id=None,
            target_type="payment",
            target_id=payment.id,
            data={"refund": payment.refund_target, "by_patient": by_patient},
        )
    return payment


def settle_after_cancellation(*, appointment_id: int, now: datetime) -> None:
    """After a cancellation committed: release an uncaptured intent or send the refund.
    Stripe being down is not an error here: the reconciliation job finishes it."""
    from app.services.payments.cards import _settle

    payments = db.session.scalars(
        select(Payment).where(
            Payment.appointment_id == appointment_id,
            Payment.stripe_payment_intent_id.is_not(None),
            Payment.status.in_((P.REQUIRES_PAYMENT, P.AUTHORIZED)),
        )
    ).all()
    try:
        for payment in payments:
            _settle(payment.stripe_payment_intent_id, now, release_unpaid=True)
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


def issue_owed_refund(*, payment_id: int, now: datetime, actor_id: int | None = None) -> int:
    """Send Stripe whatever refund is decided but not yet made; returns the amount refunded
    now (0 when nothing is owed or Stripe is unreachable: then it stays owed). Commits."""
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())
    if payment is None or payment.refund_owed <= 0 or not payment.stripe_payment_intent_id:
        db.session.rollback()
        return 0
    try:
        # Re-read first: a refund sent before a lost commit must not be sent twice.
        sync_ledger(payment, gateway.retrieve_intent(payment.stripe_payment_intent_id), now)
        owed = payment.refund_owed
        if owed <= 0:
            db.session.commit()
            return 0
        result = gateway.refund(
            intent_id=payment.stripe_payment_intent_id,
            amount=owed,
            idempotency_key=f"carebook-refund-{payment.id}-{payment.amount_refunded}-{owed}",
        )
    except gateway.GatewayError as exc:
        db.session.rollback()
        log.warning("refund of payment %s left owed: %s", payment_id, exc)
        return 0
    if not any(r.stripe_refund_id == result.id for r in payment.refunds):
        payment.refunds.append(
            Refund(
                stripe_refund_id=result.id,
                amount=result.amount,
                reason="cancellation" if actor_id is None else "granted by staff",
                created_by_id=actor_id,
            )
        )
        payment.amount_refunded += result.amount
    payment.status = status_from_amounts(payment)
    payment.updated_at = now
    audit.record(
        "payment.refunded",
        actor_id=actor_id,
        target_type="payment",
        target_id=payment.id,
        data={"amount": result.amount, "refund": result.id},
    )
    notifications.record(
        user_id=payment.appointment.patient_id,
        kind="payment.refunded",
        dedupe_key=f"payment:{payment.id}:refund:{result.id}",
        data={
            "appointment_id": payment.appointment_id,
            "amount": result.amount,
            "currency": payment.currency,
        },
    )
    db.session.commit()
    return result.amount


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
    actor = access.load_actor(actor_id)
    if not access.has_permission(actor, "payments.refund"):
        raise Forbidden("You may not refund payments.")
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())
    if payment is None:
        raise PaymentNotFound()
    refundable = refundable_amount(payment)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        db.session.rollback()
        raise InvalidInput("Enter an amount above zero.", field="amount")
    if amount > refundable:
        db.session.rollback()
        raise InvalidInput(
            f"At most {refundable} ({payment.currency} minor units) can be refunded.",
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
    db.session.commit()
    if issue_owed_refund(payment_id=payment.id, now=now, actor_id=actor_id) == 0:
        raise PaymentProviderUnavailable(
            "The refund is recorded but Stripe could not be reached; it will be sent shortly."
        )
    return db.session.get(Payment, payment_id)
