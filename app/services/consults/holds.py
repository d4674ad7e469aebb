"""The card side of a consult, by the payments service's protocol: a manual-capture
PaymentIntent is authorised when the patient asks (the hold), captured when a doctor accepts
(in the same transaction that confirms the visit, as an approval captures), and cancelled
when the request expires or is withdrawn.

Until a doctor accepts there is no appointment, so the intent's id lives on the consult row;
the accept turns it into the visit's Payment (the ledger, receipts and reports read that).
Rows are written before Stripe is called, so a crash in between leaves an intent the expiry
job can find and release.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Appointment,
    Consult,
    ConsultStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
)
from app.services import audit
from app.services.errors import Conflict, InvalidInput
from app.services.payments import gateway, settle
from app.services.payments.cards import CardDeclined, CardPaymentsOff
from app.services.payments.settle import PaymentIncomplete, unavailable
from app.services.transaction import use_case

log = logging.getLogger(__name__)


class HoldEnded(Conflict):
    code = "consult_payment_failed"
    default_message = lazy_gettext(
        "The patient's card hold could not be charged, so the consult stays open."
    )


def check_card(card_token: str | None) -> str:
    """A card consult can be asked for: card payments are on and a card was given."""
    if not gateway.is_configured():
        raise CardPaymentsOff(gettext("Card payments are not available here: please choose cash."))
    if (
        not isinstance(card_token, str)
        or not card_token.startswith("tok_")
        or len(card_token) > 255
    ):
        raise InvalidInput(gettext("Enter your card details."), field="card_token")
    return card_token


@use_case
def _record_intent(*, consult_id: int, intent_id: str) -> None:
    consult = db.session.get(Consult, consult_id, with_for_update=True)
    consult.stripe_payment_intent_id = intent_id


def place_hold(*, consult: Consult, card_token: str) -> gateway.Intent:
    """Authorise the consult's price on the card (the intent recorded first). Outside any
    transaction. Returns the intent: authorised ("requires_capture"), or "requires_action"
    when the bank asks for a 3-D Secure check the payer's page finishes (then
    `check_hold`). Raises CardDeclined, PaymentIncomplete, PaymentProviderUnavailable."""
    try:
        intent = gateway.create_hold(
            amount=consult.amount,
            currency=consult.currency,
            metadata={"consult_id": str(consult.id)},
            idempotency_key=f"carebook-consult-{consult.id}",
        )
        _record_intent(consult_id=consult.id, intent_id=intent.id)
        gateway.attach_card_token(intent.id, card_token)
        intent = gateway.confirm_intent(intent.id)
    except gateway.CardRefused as exc:
        raise CardDeclined(exc.message) from exc
    except gateway.GatewayUnavailable as exc:
        raise unavailable(exc) from exc
    except gateway.GatewayError as exc:
        raise PaymentIncomplete(
            gettext("The card could not be used: check it and try again.")
        ) from exc
    if intent.status not in ("requires_capture", "requires_action"):
        raise PaymentIncomplete(gettext("The card could not be authorised. Please try again."))
    return intent


def publishable_key() -> str | None:
    return gateway.publishable_key()


def check_hold(intent_id: str) -> gateway.Intent:
    """The hold as Stripe has it now (after the payer's 3-D Secure check). Raises
    PaymentProviderUnavailable."""
    try:
        return gateway.retrieve_intent(intent_id)
    except gateway.GatewayError as exc:
        raise unavailable(exc) from exc


def capture_for(consult: Consult, appointment: Appointment, now: datetime) -> Payment:
    """Inside the accept's transaction: the hold becomes the visit's payment, captured (the
    consult's row lock is held across the Stripe call, as settle holds an appointment's, so a
    second accept waits and then finds it taken). Raises PaymentProviderUnavailable, HoldEnded:
    the caller rolls back and the consult stays waiting."""
    payment = Payment(
        appointment_id=appointment.id,
        provider=PaymentProvider.STRIPE,
        stripe_payment_intent_id=consult.stripe_payment_intent_id,
        amount=consult.amount,
        currency=consult.currency,
        status=PaymentStatus.AUTHORIZED,
        amount_captured=0,
        amount_refunded=0,
        created_by_id=consult.patient_id,
        updated_by_id=consult.patient_id,
    )
    db.session.add(payment)
    db.session.flush()
    try:
        intent = gateway.capture_intent(consult.stripe_payment_intent_id)
    except gateway.GatewayUnavailable as exc:
        raise unavailable(exc) from exc
    except gateway.GatewayError as exc:
        log.error("capturing consult %s failed: %s", consult.id, exc)
        raise HoldEnded() from exc
    if intent.status != "succeeded":
        raise HoldEnded()
    settle.sync_ledger(payment, intent, now)
    audit.record(
        "payment.captured",
        actor_id=None,
        target_type="payment",
        target_id=payment.id,
        data={"amount": payment.amount_captured, "intent": intent.id, "consult_id": consult.id},
    )
    return payment


def refund_uncommitted_capture(intent_id: str) -> None:
    """The accept captured but could not commit: give the money back (no visit, no charge)."""
    try:
        intent = gateway.retrieve_intent(intent_id)
        owed = intent.amount_captured - intent.amount_refunded
        if owed > 0:
            gateway.refund(
                intent_id=intent_id, amount=owed, idempotency_key=f"carebook-compensate-{intent_id}"
            )
    except gateway.GatewayError:
        log.exception("could not refund consult intent %s after a failed commit", intent_id)


def release(intent_id: str) -> bool:
    """Cancel the hold of a consult that ended unaccepted; False when Stripe cannot be reached
    now (the expiry job tries again)."""
    try:
        intent = gateway.cancel_intent(intent_id)
    except gateway.GatewayError as exc:
        log.warning("releasing consult hold %s failed: %s", intent_id, exc)
        return False
    if intent.status == "succeeded":  # captured without a visit (cannot happen): refund it
        log.error("consult hold %s was captured without an accept: refunding", intent_id)
        refund_uncommitted_capture(intent_id)
    return True


def unreleased_holds() -> list[tuple[int, str]]:
    """(consult id, intent id) of the consults that ended unaccepted with a hold still open."""
    return list(
        db.session.execute(
            select(Consult.id, Consult.stripe_payment_intent_id).where(
                Consult.status.in_((ConsultStatus.EXPIRED, ConsultStatus.CANCELLED)),
                Consult.stripe_payment_intent_id.is_not(None),
                Consult.hold_released_at.is_(None),
            )
        ).all()
    )
