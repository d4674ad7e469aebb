"""Card payments: checkout, pay, and `confirm_paid` (pay-then-confirm in one transaction).

The rule: never money without an appointment, never a card appointment without money, and
never a charge before the visit is confirmed: a request to a doctor who approves bookings holds
an authorisation that is captured only when the doctor approves (released when they reject,
the patient cancels or no answer comes in time). Every path that moves money goes through
`_settle`, which locks the appointment and its payment,
re-reads the PaymentIntent from Stripe and acts on what Stripe says (never on what a caller or
an event claims): capture and confirm, or release the authorization, or refund. If the database
cannot record a capture, the charge is refunded before the error reaches anyone.
Refunds, the webhook and the jobs are in payment_refunds.py, payment_events.py, payment_jobs.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Payment,
    PaymentMethod,
    PaymentProvider,
    PaymentStatus,
    Refund,
    SlotStatus,
    StripeEvent,
    occupies_slot,
)
from app.models.payments import LIVE_PAYMENT_STATUSES
from app.services import access, audit, notifications
from app.services.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.services.payments import gateway

log = logging.getLogger(__name__)

S = AppointmentStatus
P = PaymentStatus
# Appointment states in which a payment is kept: captured, or (awaiting approval) authorised.
KEPT = (S.CONFIRMED, S.PENDING_APPROVAL, S.COMPLETED, S.NO_SHOW)
UNPAID_INTENT = ("requires_payment_method", "requires_confirmation", "requires_action")


class PaymentProviderUnavailable(DomainError):
    status_code = 503
    code = "payment_provider_unavailable"
    default_message = (
        "We could not reach the payment provider. Nothing was charged and your slot is still "
        "held: please try again in a moment."
    )


class CardPaymentsOff(InvalidInput):
    code = "payment_method_unavailable"
    default_message = (
        "Card payments are not available here yet: please choose to pay at the clinic."
    )


class CardDeclined(DomainError):
    status_code = 402
    code = "card_declined"
    default_message = "Your card was declined."


class PaymentIncomplete(Conflict):
    code = "payment_incomplete"
    default_message = "The payment is not complete yet."


class HoldLapsed(DomainError):
    status_code = 410
    code = "hold_expired"
    default_message = (
        "Your hold on this slot lapsed and the slot is no longer free. You have not been charged."
    )


class PaymentNotRecorded(DomainError):
    status_code = 503
    code = "payment_not_recorded"
    default_message = (
        "We could not record your booking, so your payment has been refunded in full. "
        "Please try booking again."
    )


class NotPayable(Conflict):
    code = "not_payable"
    default_message = "This appointment has nothing to pay by card."


class ApprovalNotCharged(Conflict):
    code = "approval_not_charged"
    default_message = (
        "The patient's card could not be charged, so the request is still pending. "
        "Please try again later."
    )


class RequestClosed(Conflict):
    code = "request_closed"
    default_message = (
        "The patient's card authorisation has ended, so this request was cancelled and "
        "nothing was charged."
    )


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    default_message = "There is no such payment."


@dataclass
class Checkout:
    """What a checkout page or the API needs to take a card payment for a hold."""

    appointment: Appointment
    payment: Payment | None
    client_secret: str | None
    publishable_key: str | None
    status: str  # "requires_payment", "requires_action", "confirmed", "closed"

    def as_dict(self) -> dict | None:
        if self.payment is None or self.payment.stripe_payment_intent_id is None:
            return None
        return {
            "payment_intent_id": self.payment.stripe_payment_intent_id,
            "client_secret": self.client_secret,
            "publishable_key": self.publishable_key,
            "amount": self.payment.amount,
            "currency": self.payment.currency,
        }


@dataclass
class Settlement:
    """What `_settle` did; `refund_payment_id` names a refund still to send after commit."""

    # confirmed, authorized, declined, action, waiting, released, refunded, duplicate, unknown
    result: str
    payment: Payment | None = None
    refund_payment_id: int | None = None
    messages: list[str] = field(default_factory=list)
    captured_now: bool = False  # this settle captured: a failed commit must give it back


def _unavailable(exc: Exception) -> PaymentProviderUnavailable:
    db.session.rollback()
    log.warning("stripe unavailable: %s", exc)
    return PaymentProviderUnavailable()


def _hold_is_live(appointment: Appointment, now: datetime) -> bool:
    return appointment.status is S.PENDING_PAYMENT and appointment.hold_expires_at > now


def _lock_appointment(appointment_id: int) -> Appointment | None:
    return db.session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    )


def _own_appointment(appointment_id: int, actor_id: int) -> Appointment:
    from app.services.scheduling.booking import AppointmentNotFound

    actor = access.load_actor(actor_id)
    appointment = _lock_appointment(appointment_id)
    if appointment is None or not access.can_manage_appointment(actor, appointment):
        db.session.rollback()
        raise AppointmentNotFound()
    return appointment


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


def _new_intent(appointment: Appointment, actor_id: int | None) -> tuple[Payment, str | None]:
    attempt = (
        db.session.scalar(
            select(func.count(Payment.id)).where(Payment.appointment_id == appointment.id)
        )
        or 0
    ) + 1
    intent = gateway.create_intent(
        amount=appointment.fee_amount,
        currency=appointment.fee_currency,
        appointment_id=appointment.id,
        attempt=attempt,
        idempotency_key=f"carebook-appointment-{appointment.id}-attempt-{attempt}",
    )
    payment = Payment(
        appointment_id=appointment.id,
        provider=PaymentProvider.STRIPE,
        stripe_payment_intent_id=intent.id,
        amount=appointment.fee_amount,
        currency=appointment.fee_currency,
        status=P.REQUIRES_PAYMENT,
        amount_captured=0,
        amount_refunded=0,
        created_by_id=actor_id,
        updated_by_id=actor_id,
    )
    db.session.add(payment)
    db.session.flush()
    audit.record(
        "payment.created",
        actor_id=actor_id,
        target_type="payment",
        target_id=payment.id,
        data={"appointment_id": appointment.id, "intent": intent.id, "amount": payment.amount},
    )
    return payment, intent.client_secret


def _confirmed_status(appointment: Appointment) -> AppointmentStatus:
    return S.PENDING_APPROVAL if appointment.doctor.requires_approval else S.CONFIRMED


def begin_checkout(*, appointment_id: int, patient_id: int, now: datetime) -> Checkout:
    """The card payment of a held appointment, with a PaymentIntent created on first use
    (idempotency key from the appointment). Safe to call again: the same intent comes back.

    Raises AppointmentNotFound, NotPayable, PaymentProviderUnavailable.
    """
    appointment = _own_appointment(appointment_id, patient_id)
    if appointment.payment_method is not PaymentMethod.CARD:
        db.session.rollback()
        raise NotPayable("This appointment is paid at the clinic.")
    key = gateway.publishable_key()
    payment = live_payment(appointment.id, lock=True)
    if not _hold_is_live(appointment, now):
        db.session.rollback()
        status = "confirmed" if appointment.status in KEPT else "closed"
        return Checkout(appointment, payment or latest_payment(appointment.id), None, key, status)
    if appointment.fee_amount == 0:  # a free visit: nothing to pay, nothing to hold
        appointment.status = _confirmed_status(appointment)
        db.session.commit()
        return Checkout(appointment, None, None, key, "confirmed")
    try:
        if payment is None:
            payment, secret = _new_intent(appointment, patient_id)
            db.session.commit()
            return Checkout(appointment, payment, secret, key, "requires_payment")
        intent = gateway.retrieve_intent(payment.stripe_payment_intent_id)
    except gateway.GatewayError as exc:
        raise _unavailable(exc) from exc
    db.session.rollback()
    status = "requires_action" if intent.status == "requires_action" else "requires_payment"
    return Checkout(appointment, payment, intent.client_secret, key, status)


def book_appointment(
    *,
    patient_id: int,
    slot_id: int,
    payment_method: PaymentMethod | str,
    notes: str | None,
    now: datetime,
) -> Checkout:
    """Book a slot, whichever way the patient pays: cash is confirmed at once (or awaits the
    doctor's approval), card is a hold with its PaymentIntent open (`Checkout.as_dict()`).

    Raises what booking.book_slot raises, and PaymentProviderUnavailable.
    """  # fmt: skip
    from app.services.scheduling import booking

    if payment_method in (PaymentMethod.CARD, PaymentMethod.CARD.value):
        return book_card_appointment(patient_id=patient_id, slot_id=slot_id, notes=notes, now=now)
    appointment = booking.book_slot(
        patient_id=patient_id, slot_id=slot_id, payment_method=payment_method, notes=notes, now=now
    )
    return Checkout(appointment, None, None, None, "closed")


def book_card_appointment(
    *, patient_id: int, slot_id: int, notes: str | None, now: datetime
) -> Checkout:
    """Hold a slot for a card payment and open its PaymentIntent. When Stripe cannot be
    reached the hold is released at once (no hold without a way to pay).

    Raises CardPaymentsOff (no Stripe configured), what booking.book_slot raises, and
    PaymentProviderUnavailable.
    """
    from app.services.scheduling import booking

    if not gateway.is_configured():
        raise CardPaymentsOff()
    appointment = booking.book_slot(
        patient_id=patient_id,
        slot_id=slot_id,
        payment_method=PaymentMethod.CARD,
        notes=notes,
        now=now,
    )
    try:
        return begin_checkout(appointment_id=appointment.id, patient_id=patient_id, now=now)
    except PaymentProviderUnavailable:
        release_hold(appointment_id=appointment.id, now=now, reason="payment provider unavailable")
        raise


def release_hold(*, appointment_id: int, now: datetime, reason: str) -> None:
    """End an unpaid hold (its slot is free again); its intent is cancelled by the jobs."""
    appointment = _lock_appointment(appointment_id)
    if appointment is not None and appointment.status is S.PENDING_PAYMENT:
        appointment.status = S.CANCELLED
        appointment.cancelled_at = now
        appointment.cancellation_reason = reason
    db.session.commit()


def pay_with_card(
    *, appointment_id: int, patient_id: int, card_token: str, now: datetime
) -> Checkout:
    """Put a card (a Stripe.js token) on the hold's PaymentIntent and confirm it. Returns
    status "requires_action" (3-D Secure: the page finishes it with Stripe.js, then calls
    confirm) or "confirmed". A declined card keeps the hold and opens a fresh intent for the
    next try.

    Raises CardDeclined, HoldLapsed, PaymentIncomplete, PaymentProviderUnavailable,
    InvalidInput, AppointmentNotFound, and what confirm_paid raises.
    """
    if (
        not isinstance(card_token, str)
        or not card_token.startswith("tok_")
        or len(card_token) > 255
    ):
        raise InvalidInput("Enter your card details.", field="card_token")
    appointment = _own_appointment(appointment_id, patient_id)
    if appointment.status in KEPT:
        db.session.rollback()
        return Checkout(appointment, latest_payment(appointment_id), None, None, "confirmed")
    if not _hold_is_live(appointment, now):
        db.session.rollback()
        raise HoldLapsed("Your hold on this slot has lapsed. You have not been charged.")
    payment = live_payment(appointment.id, lock=True)
    if payment is None:
        db.session.rollback()
        raise PaymentIncomplete("Please reload the page to pay for this appointment.")
    intent_id = payment.stripe_payment_intent_id
    try:
        intent = gateway.retrieve_intent(intent_id)
        if intent.status in ("requires_payment_method", "requires_confirmation"):
            gateway.attach_card_token(intent_id, card_token)
            intent = gateway.confirm_intent(intent_id)
    except gateway.CardRefused as exc:
        message = _rotate_after_decline(appointment, payment, exc.message, now)
        raise CardDeclined(message) from exc
    except gateway.GatewayUnavailable as exc:
        raise _unavailable(exc) from exc
    except gateway.GatewayError as exc:
        db.session.rollback()
        raise PaymentIncomplete(
            "The card could not be used. Please check it and try again."
        ) from exc
    db.session.commit()
    if intent.status == "requires_action":
        key = gateway.publishable_key()
        return Checkout(appointment, payment, intent.client_secret, key, "requires_action")
    confirmed = confirm_paid(appointment_id=appointment_id, actor_id=patient_id, now=now)
    return Checkout(confirmed, live_payment(appointment_id), None, None, "confirmed")


def _rotate_after_decline(
    appointment: Appointment, payment: Payment, message: str, now: datetime
) -> str:
    """Record a decline and open a fresh intent for the next card (declined intents cannot be
    retried everywhere). Commits; returns the message for the payer."""
    payment.status = P.FAILED
    payment.failure_message = message[:255]
    audit.record(
        "payment.declined",
        actor_id=appointment.patient_id,
        target_type="payment",
        target_id=payment.id,
        data={"message": message[:255]},
    )
    db.session.flush()
    try:
        gateway.cancel_intent(payment.stripe_payment_intent_id)
        _new_intent(appointment, appointment.patient_id)
    except gateway.GatewayError:
        pass  # the next checkout opens an intent; a declined one holds no money
    db.session.commit()
    until = appointment.hold_expires_at.strftime("%H:%M UTC")
    return f"{message} Try another card: your slot is held until {until}."


def confirm_paid(*, appointment_id: int, actor_id: int, now: datetime) -> Appointment:
    """Capture the authorized payment of a hold and confirm the appointment, in one
    transaction; a second call (or the webhook's) changes nothing.

    Raises AppointmentNotFound, Forbidden (may see it, but not settle its payment),
    CardDeclined, PaymentIncomplete (not authorized yet),
    HoldLapsed (slot taken meanwhile: authorization released or refunded),
    PaymentProviderUnavailable (nothing changed, the hold stays), PaymentNotRecorded.
    """
    from app.services.scheduling.booking import AppointmentNotFound

    actor = access.load_actor(actor_id)
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not access.can_view_appointment(actor, appointment):
        raise AppointmentNotFound()
    if not access.can_settle_payment(actor, appointment):  # before anything reaches Stripe
        raise Forbidden("Only the patient, or staff who handle payments, can confirm a payment.")
    payment = live_payment(appointment_id) or latest_payment(appointment_id)
    if appointment.status in KEPT and (
        payment is None or payment.amount_captured > 0 or payment.status is P.AUTHORIZED
    ):
        return appointment
    if payment is None:
        raise PaymentIncomplete("There is no card payment for this appointment yet.")
    settlement = _settle(payment.stripe_payment_intent_id, now)
    db.session.refresh(appointment)
    if appointment.status in KEPT:
        return appointment
    payment = settlement.payment or payment
    if settlement.result == "declined":
        raise CardDeclined(payment.failure_message or CardDeclined.default_message)
    if settlement.result == "action":
        raise PaymentIncomplete("Please complete the check from your bank to finish paying.")
    if settlement.result == "refunded":
        raise HoldLapsed(
            "Your hold lapsed and the slot was taken meanwhile: your payment has been refunded."
        )
    if settlement.result == "released" or not _hold_is_live(appointment, now):
        raise HoldLapsed()
    raise PaymentIncomplete("The payment is not complete yet.")


def capture_on_approval(
    *, appointment_id: int, approve: Callable[[Appointment], None], now: datetime
) -> Appointment:
    """The doctor approves a card request: capture its authorisation and, in the same
    transaction, confirm it with `approve` (which must set the approved state). If the charge
    cannot be taken the request stays pending, unless its authorisation has ended.

    Raises PaymentProviderUnavailable (nothing changed: try again), ApprovalNotCharged,
    RequestClosed (the authorisation ended: the request is cancelled), PaymentNotRecorded.
    """
    payment = live_payment(appointment_id)
    if payment is None:
        raise ApprovalNotCharged()
    try:
        settlement = _settle(payment.stripe_payment_intent_id, now, approve=approve)
    except PaymentIncomplete as exc:
        raise ApprovalNotCharged() from exc
    except PaymentNotRecorded as exc:
        raise PaymentNotRecorded(
            "The approval could not be recorded, so the patient's payment was refunded and "
            "the request cancelled."
        ) from exc
    if settlement.result == "released":
        raise RequestClosed()
    if settlement.result != "confirmed":
        raise ApprovalNotCharged()
    return settlement.payment.appointment


def _slot_still_free(appointment: Appointment, now: datetime) -> bool:
    from app.services.scheduling.booking import _expire_lapsed_holds, _overlapping

    slot = appointment.slot
    if slot.status is not SlotStatus.OPEN or slot.start_at <= now:
        return False
    _expire_lapsed_holds(now, Appointment.slot_id == slot.id, Appointment.id != appointment.id)
    taken = db.session.scalar(
        select(Appointment.id).where(
            Appointment.slot_id == slot.id, Appointment.id != appointment.id, occupies_slot(now)
        )
    )
    return taken is None and not _overlapping(appointment.patient_id, slot, now, appointment.id)


def _try_confirm(appointment: Appointment, now: datetime) -> bool:
    """Make a paid hold an appointment, re-taking a lapsed hold only if its slot is free."""
    if appointment.status in KEPT:
        return True
    if appointment.status not in (S.PENDING_PAYMENT, S.EXPIRED):
        return False  # cancelled by the patient or the clinic: the money goes back
    if not _hold_is_live(appointment, now) and not _slot_still_free(appointment, now):
        return False
    try:
        with db.session.begin_nested():  # the unique indexes decide a last-moment race
            appointment.status = _confirmed_status(appointment)
            appointment.updated_at = now
    except IntegrityError:
        return False
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


def _settle(
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
        return Settlement("duplicate")
    appointment_id = db.session.scalar(
        select(Payment.appointment_id).where(Payment.stripe_payment_intent_id == intent_id)
    )
    appointment = _lock_appointment(appointment_id) if appointment_id else None
    payment = db.session.scalar(
        select(Payment).where(Payment.stripe_payment_intent_id == intent_id).with_for_update()
    )
    if appointment is None or payment is None or payment.appointment_id != appointment.id:
        db.session.commit()  # keeps the event row: nothing of ours to change
        return Settlement("unknown")
    was_kept = appointment.status in KEPT
    try:
        settlement = _apply(payment, appointment, now, release_unpaid, approve)
    except gateway.GatewayUnavailable as exc:
        raise _unavailable(exc) from exc
    except gateway.GatewayError as exc:
        db.session.rollback()
        log.error("stripe refused settling %s: %s", intent_id, exc)
        raise PaymentIncomplete("The payment could not be completed.") from exc
    try:
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        if settlement.result == "confirmed" and (not was_kept or settlement.captured_now):
            _compensate(intent_id, appointment_id, now)
            raise PaymentNotRecorded() from exc
        raise
    if settlement.refund_payment_id is not None:
        from app.services.payments.refunds import issue_owed_refund

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
        if release_unpaid and not _hold_is_live(appointment, now):
            gateway.cancel_intent(intent.id)
            return _released(payment, appointment, now)
        if intent.status == "requires_action":
            return Settlement("action", payment)
        return Settlement("declined" if intent.error_message else "waiting", payment)
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
        return Settlement("waiting", payment)
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
        return Settlement("confirmed", payment, captured_now=captured_now)
    if payment.refund_target is None:  # money without an appointment: all of it goes back
        payment.refund_target = payment.amount_captured
        notifications.record(
            user_id=appointment.patient_id,
            kind="payment.refunded_slot_taken",
            dedupe_key=f"payment:{payment.id}:refund-slot-taken",
            data={"appointment_id": appointment.id, "amount": payment.amount_captured},
        )
    return Settlement("refunded", payment, refund_payment_id=payment.id)


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
    return Settlement("authorized", payment)


def _released(payment: Payment, appointment: Appointment, now: datetime) -> Settlement:
    """The intent ended uncaptured: nothing was charged. Tells the patient when the money they
    put up no longer stands for a visit (a hold lost, a request rejected or lapsed)."""
    authorised = payment.status is P.AUTHORIZED
    if payment.status in (P.REQUIRES_PAYMENT, P.AUTHORIZED):
        payment.status = P.CANCELED
        payment.updated_at = now
        audit.record("payment.released", actor_id=None, target_type="payment", target_id=payment.id)
    if appointment.status is S.PENDING_PAYMENT and not _hold_is_live(appointment, now):
        appointment.status = S.EXPIRED
        appointment.updated_at = now
    if appointment.status is S.PENDING_APPROVAL:  # the authorisation ended at Stripe
        appointment.status = S.CANCELLED
        appointment.cancelled_at = now
        appointment.cancellation_reason = "card authorisation ended before approval"
        appointment.updated_at = now
    if authorised or appointment.status is S.EXPIRED:
        notifications.record(
            user_id=appointment.patient_id,
            kind="payment.released",
            dedupe_key=f"payment:{payment.id}:released",
            data={"appointment_id": appointment.id, "status": appointment.status.value},
        )
    return Settlement("released", payment)


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
        appointment = _lock_appointment(appointment_id)
        payment = db.session.scalar(
            select(Payment).where(Payment.stripe_payment_intent_id == intent_id).with_for_update()
        )
        sync_ledger(payment, intent, now)
        payment.refund_target = payment.amount_captured
        if appointment.status in (S.PENDING_PAYMENT, S.EXPIRED, S.PENDING_APPROVAL):
            appointment.status = S.CANCELLED
            appointment.cancelled_at = now
            appointment.cancellation_reason = "payment could not be recorded"
        notifications.record(
            user_id=appointment.patient_id,
            kind="payment.not_recorded_refunded",
            dedupe_key=f"payment:{payment.id}:not-recorded",
            data={"appointment_id": appointment.id, "amount": payment.amount_refunded},
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record the refund of %s; reconciliation will", intent_id)
