"""Settling a card payment with Stripe: the one step every path that moves money goes through.

The rule: never money without an appointment, never a card appointment without money, and
never a charge before the visit is confirmed. `settle` locks the appointment and its payment,
re-reads the PaymentIntent from Stripe and acts on what Stripe says (never on what a caller or
an event claims): capture and confirm, keep an authorisation for a request awaiting the
doctor's approval, release the authorisation, or refund. If the database cannot record a
capture, the charge is refunded before the error reaches anyone. The ledger (amounts captured
and refunded) is copied from Stripe here, and refunds owed are sent from here.

Transactions: this is the one place that keeps a row lock across Stripe calls (re-read, then
capture or cancel), on purpose, so that a second tab, the webhook and the jobs queue behind it
instead of acting twice. Its commits are written out rather than left to services/transaction:
the event row on its own, the capture with the confirmation, and, when that commit fails, the
compensating refund recorded after it.

Its callers: checkout and approval (cards.py), cancellations (refunds.py), the webhook
(events.py) and the jobs (jobs.py). It imports no booking module: what it needs to know about
a slot's occupancy comes from the scheduling leaf `occupancy`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Refund,
    SlotStatus,
    StripeEvent,
)
from app.models.payments import LIVE_PAYMENT_STATUSES
from app.services import audit
from app.services.errors import Conflict, DomainError
from app.services.notifications import events, outbox
from app.services.payments import gateway
from app.services.scheduling import occupancy
from app.services.webhooks import events as webhooks

log = logging.getLogger(__name__)


S = AppointmentStatus


P = PaymentStatus


# Appointment states in which a payment is kept: captured, or (awaiting approval) authorised.
KEPT = (S.CONFIRMED, S.PENDING_APPROVAL, S.COMPLETED, S.NO_SHOW)


UNPAID_INTENT = ("requires_payment_method", "requires_confirmation", "requires_action")


class PaymentProviderUnavailable(DomainError):
    status_code = 503
    code = "payment_provider_unavailable"
    default_message = lazy_gettext(
        "We could not reach the payment provider. Nothing was charged and your slot is still "
        "held: please try again in a moment."
    )


class PaymentIncomplete(Conflict):
    code = "payment_incomplete"
    default_message = lazy_gettext("The payment is not complete yet.")


class PaymentNotRecorded(DomainError):
    status_code = 503
    code = "payment_not_recorded"
    default_message = lazy_gettext(
        "We could not record your booking, so your payment has been refunded in full. "
        "Please try booking again."
    )


class Outcome(StrEnum):
    """What settling a payment (or applying a webhook) did."""

    CONFIRMED = "confirmed"  # captured (or free) and the appointment is kept
    AUTHORIZED = "authorized"  # a request awaiting approval: the card is authorised only
    DECLINED = "declined"
    ACTION = "action"  # 3-D Secure: the payer must finish a check
    WAITING = "waiting"  # not paid yet
    RELEASED = "released"  # the intent ended uncaptured: nothing charged
    REFUNDED = "refunded"  # money without an appointment: it all goes back
    DUPLICATE = "duplicate"  # an event applied before
    UNKNOWN = "unknown"  # not a payment of ours
    IGNORED = "ignored"  # an event that moves nothing
    STALE = "stale"  # an event older than the state applied
    DISPUTED = "disputed"
    DISPUTE_CLOSED = "dispute_closed"


@dataclass
class Settlement:
    """What `settle` did; `refund_payment_id` names a refund still to send after commit."""

    result: Outcome
    payment: Payment | None = None
    refund_payment_id: int | None = None
    messages: list[str] = field(default_factory=list)
    captured_now: bool = False  # this settle captured: a failed commit must give it back


def unavailable(exc: Exception) -> PaymentProviderUnavailable:
    """The error for Stripe being out of reach (logged); the caller rolls back."""
    log.warning("stripe unavailable: %s", exc)
    return PaymentProviderUnavailable()


def hold_is_live(appointment: Appointment, now: datetime) -> bool:
    return appointment.status is S.PENDING_PAYMENT and appointment.hold_expires_at > now


def lock_appointment(appointment_id: int) -> Appointment | None:
    return db.session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    )


def live_payment(appointment_id: int, *, lock: bool = False) -> Payment | None:
    """The card payment that stands for an appointment now (at most one: a partial index)."""
    stmt = select(Payment).where(
        Payment.appointment_id == appointment_id,
        Payment.provider == PaymentProvider.STRIPE,
        Payment.status.in_(LIVE_PAYMENT_STATUSES),
    )
    if lock:
        stmt = stmt.with_for_update()
    return db.session.scalar(stmt)


def latest_payment(appointment_id: int) -> Payment | None:
    """The appointment's most recent card payment, live or not (for pages)."""
    return db.session.scalar(
        select(Payment)
        .where(Payment.appointment_id == appointment_id)
        .order_by(Payment.id.desc())
        .limit(1)
    )


def confirmed_status(appointment: Appointment) -> AppointmentStatus:
    return S.PENDING_APPROVAL if appointment.doctor.requires_approval else S.CONFIRMED


def _slot_still_free(appointment: Appointment, now: datetime) -> bool:
    slot = appointment.slot
    if slot.status is not SlotStatus.OPEN or slot.start_at <= now:
        return False
    occupancy.expire_lapsed_holds(
        now, Appointment.slot_id == slot.id, Appointment.id != appointment.id
    )
    return not occupancy.slot_taken(slot.id, now, exclude=appointment.id) and not (
        occupancy.patient_busy(appointment.patient_id, slot, now, exclude=appointment.id)
    )


def _try_confirm(appointment: Appointment, now: datetime) -> bool:
    """Make a paid hold an appointment, re-taking a lapsed hold only if its slot is free."""
    if appointment.status in KEPT:
        return True
    if appointment.status not in (S.PENDING_PAYMENT, S.EXPIRED):
        return False  # cancelled by the patient or the clinic: the money goes back
    if not hold_is_live(appointment, now) and not _slot_still_free(appointment, now):
        return False
    was = appointment.status
    try:
        with db.session.begin_nested():  # the unique indexes decide a last-moment race
            appointment.status = confirmed_status(appointment)
            appointment.updated_at = now
    except IntegrityError:
        return False
    events.booked(appointment)
    webhooks.booked(appointment, now=now)
    occupancy.announce(appointment, was=was)
    audit.record(
        "appointment.paid",
        actor_id=None,
        target_type="appointment",
        target_id=appointment.id,
        data={"status": appointment.status.value},
    )
    return True


def sync_ledger(payment: Payment, intent: gateway.Intent, now: datetime) -> None:
    """Copy Stripe's amounts onto the ledger row: captured, refunds, fee, status."""
    if intent.amount_captured and payment.amount_captured != intent.amount_captured:
        payment.amount_captured = intent.amount_captured
        payment.captured_at = payment.captured_at or now
    if intent.fee is not None:
        payment.fee_amount = intent.fee
    known = {r.stripe_refund_id for r in payment.refunds}
    for refund_id, amount in intent.refunds:
        if refund_id not in known:
            payment.refunds.append(
                Refund(stripe_refund_id=refund_id, amount=amount, reason="refunded at Stripe")
            )
    payment.amount_refunded = max(
        payment.amount_refunded, intent.amount_refunded, sum(r.amount for r in payment.refunds)
    )
    payment.status = status_from_amounts(payment)
    payment.updated_at = now


def status_from_amounts(payment: Payment) -> PaymentStatus:
    if payment.dispute_id and payment.dispute_status not in ("won", "warning_closed"):
        return P.DISPUTED
    if payment.amount_captured == 0:
        return payment.status
    if payment.amount_refunded >= payment.amount_captured:
        return P.REFUNDED
    if payment.amount_refunded > 0:
        return P.PARTIALLY_REFUNDED
    return P.CAPTURED


def record_event(event: tuple[str, str] | None) -> bool:
    """Claim a webhook event id in the current transaction; False when already processed."""
    if event is None:
        return True
    try:
        with db.session.begin_nested():
            db.session.add(StripeEvent(id=event[0], type=event[1]))
    except IntegrityError:
        return False
    return True


@outbox.hands_on
def settle(
    intent_id: str,
    now: datetime,
    *,
    event: tuple[str, str] | None = None,
    release_unpaid: bool = False,
    approve: Callable[[Appointment], None] | None = None,
) -> Settlement:
    """Bring one payment and its appointment in line with Stripe, in one transaction.

    `event` (id, type) is recorded in the same transaction, so an event applies once.
    `release_unpaid` (the jobs) cancels intents never authorized once the hold has lapsed.
    `approve` (the doctor's approval) captures an authorised request and confirms it with
    this callback in the same transaction; without it a request's authorisation is kept.
    """
    if not record_event(event):
        db.session.rollback()
        return Settlement(Outcome.DUPLICATE)
    appointment_id = db.session.scalar(
        select(Payment.appointment_id).where(Payment.stripe_payment_intent_id == intent_id)
    )
    appointment = lock_appointment(appointment_id) if appointment_id else None
    payment = db.session.scalar(
        select(Payment).where(Payment.stripe_payment_intent_id == intent_id).with_for_update()
    )
    if appointment is None or payment is None or payment.appointment_id != appointment.id:
        db.session.commit()  # keeps the event row: nothing of ours to change
        return Settlement(Outcome.UNKNOWN)
    was_kept = appointment.status in KEPT
    try:
        settlement = _apply(payment, appointment, now, release_unpaid, approve)
    except gateway.GatewayUnavailable as exc:
        db.session.rollback()
        raise unavailable(exc) from exc
    except gateway.GatewayError as exc:
        db.session.rollback()
        log.error("stripe refused settling %s: %s", intent_id, exc)
        raise PaymentIncomplete(gettext("The payment could not be completed.")) from exc
    try:
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        if settlement.result is Outcome.CONFIRMED and (not was_kept or settlement.captured_now):
            _compensate(intent_id, appointment_id, now)
            raise PaymentNotRecorded() from exc
        raise
    if settlement.refund_payment_id is not None:
        issue_owed_refund(payment_id=settlement.refund_payment_id, now=now)
    return settlement


def _apply(
    payment: Payment,
    appointment: Appointment,
    now: datetime,
    release_unpaid: bool,
    approve: Callable[[Appointment], None] | None,
) -> Settlement:
    intent = gateway.retrieve_intent(payment.stripe_payment_intent_id)
    live = payment.status in LIVE_PAYMENT_STATUSES
    if intent.status in UNPAID_INTENT:
        if intent.error_message and payment.status is P.REQUIRES_PAYMENT:
            payment.failure_message = intent.error_message[:255]
        if release_unpaid and not hold_is_live(appointment, now):
            gateway.cancel_intent(intent.id)
            return _released(payment, appointment, now)
        if intent.status == "requires_action":
            return Settlement(Outcome.ACTION, payment)
        return Settlement(Outcome.DECLINED if intent.error_message else Outcome.WAITING, payment)
    if intent.status == "canceled":
        return _released(payment, appointment, now)
    captured_now = False
    if intent.status == "requires_capture":
        if not live or not _try_confirm(appointment, now):
            gateway.cancel_intent(intent.id)
            return _released(payment, appointment, now)
        if appointment.status is S.PENDING_APPROVAL and approve is None:
            return _authorized(payment, appointment, now)
        intent = gateway.capture_intent(intent.id)
        payment.status = P.AUTHORIZED  # until the capture is recorded below
        captured_now = True
    if intent.status != "succeeded":
        return Settlement(Outcome.WAITING, payment)
    already_captured = payment.amount_captured
    sync_ledger(payment, intent, now)
    if approve is not None and appointment.status is S.PENDING_APPROVAL:
        approve(appointment)
    if appointment.status in KEPT or _try_confirm(appointment, now):
        if payment.amount_captured != already_captured:
            audit.record(
                "payment.captured",
                actor_id=None,
                target_type="payment",
                target_id=payment.id,
                data={"amount": payment.amount_captured, "intent": intent.id},
            )
            webhooks.payment_event("payment.captured", payment, now=now)
        return Settlement(Outcome.CONFIRMED, payment, captured_now=captured_now)
    if payment.refund_target is None:  # money without an appointment: all of it goes back
        payment.refund_target = payment.amount_captured
        outbox.notify(
            appointment.patient,
            "payment.refunded_slot_taken",
            key=f"payment:{payment.id}:refund-slot-taken",
            data={"appointment_id": appointment.id, "amount": payment.amount_captured},
        )
    return Settlement(Outcome.REFUNDED, payment, refund_payment_id=payment.id)


def _authorized(payment: Payment, appointment: Appointment, now: datetime) -> Settlement:
    """A request to a doctor who approves bookings: the card is authorised, not charged."""
    if payment.status is not P.AUTHORIZED:
        payment.status = P.AUTHORIZED
        payment.updated_at = now
        audit.record(
            "payment.authorized",
            actor_id=None,
            target_type="payment",
            target_id=payment.id,
            data={"amount": payment.amount, "appointment_id": appointment.id},
        )
    return Settlement(Outcome.AUTHORIZED, payment)


def _released(payment: Payment, appointment: Appointment, now: datetime) -> Settlement:
    """The intent ended uncaptured: nothing was charged. Tells the patient when the money they
    put up no longer stands for a visit (a hold lost, a request rejected or lapsed)."""
    authorised = payment.status is P.AUTHORIZED
    if payment.status in (P.REQUIRES_PAYMENT, P.AUTHORIZED):
        payment.status = P.CANCELED
        payment.updated_at = now
        audit.record("payment.released", actor_id=None, target_type="payment", target_id=payment.id)
    was = appointment.status
    if appointment.status is S.PENDING_PAYMENT and not hold_is_live(appointment, now):
        appointment.status = S.EXPIRED
        appointment.updated_at = now
    if appointment.status is S.PENDING_APPROVAL:  # the authorisation ended at Stripe
        appointment.status = S.CANCELLED
        appointment.cancelled_at = now
        appointment.cancellation_reason = "card authorisation ended before approval"
        appointment.updated_at = now
        webhooks.appointment_event(
            "appointment.cancelled", appointment, now=now, cancelled_by="system"
        )
    occupancy.announce(appointment, was=was)
    if authorised or appointment.status is S.EXPIRED:
        outbox.notify(
            appointment.patient,
            "payment.released",
            key=f"payment:{payment.id}:released",
            data={"appointment_id": appointment.id, "status": appointment.status.value},
        )
    return Settlement(Outcome.RELEASED, payment)


def _compensate(intent_id: str, appointment_id: int, now: datetime) -> None:
    """The capture could not be recorded: refund it, then record that as well as we can."""
    try:
        intent = gateway.retrieve_intent(intent_id)
        owed = intent.amount_captured - intent.amount_refunded
        if owed > 0:
            gateway.refund(
                intent_id=intent_id, amount=owed, idempotency_key=f"carebook-compensate-{intent_id}"
            )
        elif intent.status == "requires_capture":
            gateway.cancel_intent(intent_id)
        intent = gateway.retrieve_intent(intent_id)
    except gateway.GatewayError:
        log.exception("could not refund %s after a failed commit; reconciliation will", intent_id)
        return
    try:
        appointment = lock_appointment(appointment_id)
        payment = db.session.scalar(
            select(Payment).where(Payment.stripe_payment_intent_id == intent_id).with_for_update()
        )
        sync_ledger(payment, intent, now)
        payment.refund_target = payment.amount_captured
        if appointment.status in (S.PENDING_PAYMENT, S.EXPIRED, S.PENDING_APPROVAL):
            was = appointment.status
            appointment.status = S.CANCELLED
            appointment.cancelled_at = now
            appointment.cancellation_reason = "payment could not be recorded"
            occupancy.announce(appointment, was=was)
        outbox.notify(
            appointment.patient,
            "payment.not_recorded_refunded",
            key=f"payment:{payment.id}:not-recorded",
            data={"appointment_id": appointment.id, "amount": payment.amount_refunded},
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record the refund of %s; reconciliation will", intent_id)


@outbox.hands_on
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
    refund = next((r for r in payment.refunds if r.stripe_refund_id == result.id), None)
    if refund is None:
        refund = Refund(
            stripe_refund_id=result.id,
            amount=result.amount,
            reason="cancellation" if actor_id is None else "granted by staff",
            created_by_id=actor_id,
        )
        payment.refunds.append(refund)
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
    db.session.flush()
    webhooks.payment_event(
        "payment.refunded", payment, now=now, refund_id=refund.id, refund_amount=result.amount
    )
    outbox.notify(
        payment.appointment.patient,
        "payment.refunded",
        key=f"payment:{payment.id}:refund:{result.id}",
        data={
            "appointment_id": payment.appointment_id,
            "amount": result.amount,
            "currency": payment.currency,
            "refund_id": refund.id,
        },
    )
    db.session.commit()
    return result.amount
