"""Card payments: checkout, pay, confirm after Stripe.js, and capture at the doctor's approval.

Each use case here ends in `settle.settle`, which captures, keeps an authorisation, releases or
refunds by what Stripe says; this module opens the PaymentIntents and talks to the payer.
Like settle, these hold the appointment's row lock across their Stripe calls (one hold, one
actor at a time) and end in exactly one commit or rollback each, written out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Payment, PaymentMethod, PaymentProvider
from app.services import access, audit
from app.services.errors import AppointmentNotFound, Conflict, DomainError, Forbidden, InvalidInput
from app.services.localtime import zone
from app.services.payments import gateway
from app.services.payments.settle import (
    KEPT,
    Outcome,
    P,
    PaymentIncomplete,
    PaymentNotRecorded,
    confirmed_status,
    hold_is_live,
    latest_payment,
    live_payment,
    lock_appointment,
    settle,
    unavailable,
)
from app.services.scheduling import occupancy


class CardPaymentsOff(InvalidInput):
    code = "payment_method_unavailable"
    default_message = lazy_gettext(
        "Card payments are not available here yet: please choose to pay at the clinic."
    )


class CardDeclined(DomainError):
    status_code = 402
    code = "card_declined"
    default_message = lazy_gettext("Your card was declined.")


class HoldLapsed(DomainError):
    status_code = 410
    code = "hold_expired"
    default_message = lazy_gettext(
        "Your hold on this slot lapsed and the slot is no longer free. You have not been charged."
    )


class NotPayable(Conflict):
    code = "not_payable"
    default_message = lazy_gettext("This appointment has nothing to pay by card.")


class ApprovalNotCharged(Conflict):
    code = "approval_not_charged"
    default_message = lazy_gettext(
        "The patient's card could not be charged, so the request is still pending. "
        "Please try again later."
    )


class RequestClosed(Conflict):
    code = "request_closed"
    default_message = lazy_gettext(
        "The patient's card authorisation has ended, so this request was cancelled and "
        "nothing was charged."
    )


class CheckoutStatus(StrEnum):
    REQUIRES_PAYMENT = "requires_payment"
    REQUIRES_ACTION = "requires_action"  # 3-D Secure under way
    CONFIRMED = "confirmed"  # paid, authorised for approval, or free
    CLOSED = "closed"  # the hold ended (or a cash booking: nothing to pay by card)


@dataclass
class Checkout:
    """What a checkout page or the API needs to take a card payment for a hold."""

    appointment: Appointment
    payment: Payment | None
    client_secret: str | None
    publishable_key: str | None
    status: CheckoutStatus

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


def _own_appointment(appointment_id: int, actor_id: int) -> Appointment:

    actor = access.load_actor(actor_id)
    appointment = lock_appointment(appointment_id)
    if appointment is None or not access.can_manage_appointment(actor, appointment):
        db.session.rollback()
        raise AppointmentNotFound()
    return appointment


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


def begin_checkout(*, appointment_id: int, patient_id: int, now: datetime) -> Checkout:
    """The card payment of a held appointment, with a PaymentIntent created on first use
    (idempotency key from the appointment). Safe to call again: the same intent comes back.

    Raises AppointmentNotFound, NotPayable, PaymentProviderUnavailable.
    """
    appointment = _own_appointment(appointment_id, patient_id)
    if appointment.payment_method is not PaymentMethod.CARD:
        db.session.rollback()
        raise NotPayable(gettext("This appointment is paid at the clinic."))
    key = gateway.publishable_key()
    payment = live_payment(appointment.id, lock=True)
    if not hold_is_live(appointment, now):
        db.session.rollback()
        status = CheckoutStatus.CONFIRMED if appointment.status in KEPT else CheckoutStatus.CLOSED
        return Checkout(appointment, payment or latest_payment(appointment.id), None, key, status)
    if appointment.fee_amount == 0:  # a free visit: nothing to pay, nothing to hold
        appointment.status = confirmed_status(appointment)
        occupancy.announce(appointment, was=AppointmentStatus.PENDING_PAYMENT)
        db.session.commit()
        return Checkout(appointment, None, None, key, CheckoutStatus.CONFIRMED)
    try:
        if payment is None:
            payment, secret = _new_intent(appointment, patient_id)
            db.session.commit()
            return Checkout(appointment, payment, secret, key, CheckoutStatus.REQUIRES_PAYMENT)
        intent = gateway.retrieve_intent(payment.stripe_payment_intent_id)
    except gateway.GatewayError as exc:
        db.session.rollback()
        raise unavailable(exc) from exc
    db.session.rollback()
    status = (
        CheckoutStatus.REQUIRES_ACTION
        if intent.status == "requires_action"
        else CheckoutStatus.REQUIRES_PAYMENT
    )
    return Checkout(appointment, payment, intent.client_secret, key, status)


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
        raise InvalidInput(gettext("Enter your card details."), field="card_token")
    appointment = _own_appointment(appointment_id, patient_id)
    if appointment.status in KEPT:
        db.session.rollback()
        return Checkout(
            appointment, latest_payment(appointment_id), None, None, CheckoutStatus.CONFIRMED
        )
    if not hold_is_live(appointment, now):
        db.session.rollback()
        raise HoldLapsed(gettext("Your hold on this slot has lapsed. You have not been charged."))
    payment = live_payment(appointment.id, lock=True)
    if payment is None:
        db.session.rollback()
        raise PaymentIncomplete(gettext("Please reload the page to pay for this appointment."))
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
        db.session.rollback()
        raise unavailable(exc) from exc
    except gateway.GatewayError as exc:
        db.session.rollback()
        raise PaymentIncomplete(
            gettext("The card could not be used. Please check it and try again.")
        ) from exc
    db.session.commit()
    if intent.status == "requires_action":
        key = gateway.publishable_key()
        return Checkout(
            appointment, payment, intent.client_secret, key, CheckoutStatus.REQUIRES_ACTION
        )
    confirmed = confirm_paid(appointment_id=appointment_id, actor_id=patient_id, now=now)
    return Checkout(confirmed, live_payment(appointment_id), None, None, CheckoutStatus.CONFIRMED)


def _rotate_after_decline(
    appointment: Appointment, payment: Payment, message: str, now: datetime
) -> str:
    """Record a decline and open a fresh intent for the next card (declined intents cannot be
    retried everywhere). Commits; returns the message for the payer."""
    payment.status = P.FAILED
    payment.updated_at = now
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
    # The checkout page shows the clinic's zone: so does its message.
    until = appointment.hold_expires_at.astimezone(zone(appointment.doctor.timezone))
    return f"{message} Try another card: your slot is held until {until:%H:%M} {until.tzname()}."


def confirm_paid(*, appointment_id: int, actor_id: int, now: datetime) -> Appointment:
    """Capture the authorized payment of a hold and confirm the appointment, in one
    transaction; a second call (or the webhook's) changes nothing.

    Raises AppointmentNotFound, Forbidden (may see it, but not settle its payment),
    CardDeclined, PaymentIncomplete (not authorized yet),
    HoldLapsed (slot taken meanwhile: authorization released or refunded),
    PaymentProviderUnavailable (nothing changed, the hold stays), PaymentNotRecorded.
    """

    actor = access.load_actor(actor_id)
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not access.can_view_appointment(actor, appointment):
        raise AppointmentNotFound()
    if not access.can_settle_payment(actor, appointment):  # before anything reaches Stripe
        raise Forbidden(
            gettext("Only the patient, or staff who handle payments, can confirm a payment.")
        )
    payment = live_payment(appointment_id) or latest_payment(appointment_id)
    if appointment.status in KEPT and (
        payment is None or payment.amount_captured > 0 or payment.status is P.AUTHORIZED
    ):
        return appointment
    if payment is None:
        raise PaymentIncomplete(gettext("There is no card payment for this appointment yet."))
    settlement = settle(payment.stripe_payment_intent_id, now)
    db.session.refresh(appointment)
    if appointment.status in KEPT:
        return appointment
    payment = settlement.payment or payment
    if settlement.result is Outcome.DECLINED:
        raise CardDeclined(payment.failure_message or CardDeclined.default_message)
    if settlement.result is Outcome.ACTION:
        raise PaymentIncomplete(
            gettext("Please complete the check from your bank to finish paying.")
        )
    if settlement.result is Outcome.REFUNDED:
        raise HoldLapsed(
            gettext(
                "Your hold lapsed and the slot was taken meanwhile: your payment has been refunded."
            )
        )
    if settlement.result is Outcome.RELEASED or not hold_is_live(appointment, now):
        raise HoldLapsed()
    raise PaymentIncomplete(gettext("The payment is not complete yet."))


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
        settlement = settle(payment.stripe_payment_intent_id, now, approve=approve)
    except PaymentIncomplete as exc:
        raise ApprovalNotCharged() from exc
    except PaymentNotRecorded as exc:
        raise PaymentNotRecorded(
            gettext(
                "The approval could not be recorded, so the patient's payment was refunded and "
                "the request cancelled."
            )
        ) from exc
    if settlement.result is Outcome.RELEASED:
        raise RequestClosed()
    if settlement.result is not Outcome.CONFIRMED:
        raise ApprovalNotCharged()
    return settlement.payment.appointment
