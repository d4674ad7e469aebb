"""Stripe webhooks: verified, applied once per event id, safe in any order.

An event only says which PaymentIntent to look at: the state applied is always re-read from
Stripe (`payments._settle`), so a late or repeated event cannot move anything backwards.
Disputes are taken from the event itself (the dispute object), keyed to the payment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Payment
from app.services import audit
from app.services import stripe_gateway as gateway
from app.services.errors import DomainError
from app.services.payments import (
    PaymentProviderUnavailable,
    _settle,
    record_event,
    status_from_amounts,
)

INTENT_EVENTS = {
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.requires_action",
    "payment_intent.processing",
}
CHARGE_EVENTS = {"charge.refunded", "charge.succeeded", "charge.captured", "charge.refund.updated"}
DISPUTE_EVENTS = {"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"}


class InvalidWebhook(DomainError):
    status_code = 400
    code = "invalid_webhook"
    default_message = "The webhook signature is not valid."


def _intent_id(kind: str, obj: dict) -> str | None:
    if kind in INTENT_EVENTS:
        return obj.get("id")
    intent = obj.get("payment_intent")
    if intent:
        return intent if isinstance(intent, str) else intent.get("id")
    charge = obj.get("charge") if kind in DISPUTE_EVENTS else obj.get("id")
    if isinstance(charge, str) and charge.startswith("ch_"):
        try:
            return gateway.charge_intent_id(charge)
        except gateway.GatewayError as exc:
            raise PaymentProviderUnavailable() from exc
    return None


def handle_webhook(*, payload: bytes, signature: str | None, now: datetime) -> str:
    """Apply one Stripe event. Returns what happened ("confirmed", "duplicate", "ignored", ...).

    Raises InvalidWebhook (400: nothing written) and PaymentProviderUnavailable (503: nothing
    written, Stripe delivers again).
    """
    try:
        event = gateway.verify_webhook(payload, signature)
    except gateway.BadSignature as exc:
        raise InvalidWebhook(str(exc)) from exc
    kind = str(event["type"])[:120]
    ref = (str(event["id"])[:255], kind)
    obj = (event.get("data") or {}).get("object") or {}
    if kind in INTENT_EVENTS or kind in CHARGE_EVENTS or kind in DISPUTE_EVENTS:
        intent_id = _intent_id(kind, obj)
    else:
        intent_id = None
    if intent_id is None:
        applied = record_event(ref)
        db.session.commit()
        return "ignored" if applied else "duplicate"
    if kind in DISPUTE_EVENTS:
        return _apply_dispute(ref, intent_id, obj, now)
    return _settle(intent_id, now, event=ref).result


def _apply_dispute(ref: tuple[str, str], intent_id: str, dispute: dict, now: datetime) -> str:
    if not record_event(ref):
        db.session.rollback()
        return "duplicate"
    payment = db.session.scalar(
        select(Payment).where(Payment.stripe_payment_intent_id == intent_id).with_for_update()
    )
    if payment is None:
        db.session.commit()
        return "unknown"
    payment.dispute_id = str(dispute.get("id") or payment.dispute_id or "")[:255] or None
    payment.dispute_status = str(dispute.get("status") or "needs_response")[:40]
    payment.status = status_from_amounts(payment)
    payment.updated_at = now
    audit.record(
        "payment." + ref[1].removeprefix("charge."),
        actor_id=None,
        target_type="payment",
        target_id=payment.id,
        data={"dispute": payment.dispute_id, "status": payment.dispute_status},
    )
    db.session.commit()
    return "disputed" if payment.status.value == "disputed" else "dispute_closed"
