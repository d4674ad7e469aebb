"""Stripe webhooks: verified, applied once per event id, safe in any order.

An event only says which PaymentIntent to look at: the state applied is always re-read from
Stripe (`settle.settle`), so a late or repeated event cannot move anything backwards.
Disputes are taken from the event itself (the dispute object), keyed to the payment, and only
when the event is newer than the one applied last (Stripe delivers in no particular order).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext
from sqlalchemy import select

from app.extensions import db
from app.models import Payment
from app.services import audit
from app.services.errors import DomainError
from app.services.payments import gateway
from app.services.payments.settle import (
    Outcome,
    PaymentProviderUnavailable,
    record_event,
    settle,
    status_from_amounts,
)
from app.services.transaction import transaction, use_case

INTENT_EVENTS = {
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.requires_action",
    "payment_intent.processing",
}
# Stripe's final dispute states: at the same `created` second they win over an open state.
CLOSED_DISPUTE = {"won", "lost", "warning_closed"}
CHARGE_EVENTS = {"charge.refunded", "charge.succeeded", "charge.captured", "charge.refund.updated"}
DISPUTE_EVENTS = {"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"}


class InvalidWebhook(DomainError):
    status_code = 400
    code = "invalid_webhook"
    default_message = lazy_gettext("The webhook signature is not valid.")


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


def handle_webhook(*, payload: bytes, signature: str | None, now: datetime) -> Outcome:
    """Apply one Stripe event. Returns what happened (an Outcome: confirmed, duplicate, ...

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
        with transaction():
            applied = record_event(ref)
        return Outcome.IGNORED if applied else Outcome.DUPLICATE
    if kind in DISPUTE_EVENTS:
        return _apply_dispute(ref, intent_id, obj, _created(event, now), now)
    return settle(intent_id, now, event=ref).result


def _created(event: dict, now: datetime) -> datetime:
    """When Stripe created the event (its `created`, Unix seconds); `now` if it has none."""
    created = event.get("created")
    if isinstance(created, int | float) and not isinstance(created, bool):
        return datetime.fromtimestamp(created, UTC)
    return now


def _is_stale(payment: Payment, created: datetime, status: str) -> bool:
    """The event says less than what is applied: created before it, or in the same second
    and reopening a closed dispute."""
    applied = payment.dispute_event_at
    if applied is None:
        return False
    if created < applied:
        return True
    return (
        created == applied
        and payment.dispute_status in CLOSED_DISPUTE
        and status not in CLOSED_DISPUTE
    )


@use_case
def _apply_dispute(
    ref: tuple[str, str], intent_id: str, dispute: dict, created: datetime, now: datetime
) -> Outcome:
    if not record_event(ref):
        return Outcome.DUPLICATE
    payment = db.session.scalar(
        select(Payment).where(Payment.stripe_payment_intent_id == intent_id).with_for_update()
    )
    if payment is None:
        return Outcome.UNKNOWN  # the event row is kept: nothing of ours to change
    status = str(dispute.get("status") or "needs_response")[:40]
    if _is_stale(payment, created, status):
        audit.record(
            "payment.dispute_event_stale",
            actor_id=None,
            target_type="payment",
            target_id=payment.id,
            data={"event": ref[0], "kind": ref[1], "status": status},
        )
        return Outcome.STALE
    payment.dispute_id = str(dispute.get("id") or payment.dispute_id or "")[:255] or None
    payment.dispute_status = status
    payment.dispute_event_at = created
    payment.status = status_from_amounts(payment)
    payment.updated_at = now
    audit.record(
        "payment." + ref[1].removeprefix("charge."),
        actor_id=None,
        target_type="payment",
        target_id=payment.id,
        data={"dispute": payment.dispute_id, "status": payment.dispute_status},
    )
    return Outcome.DISPUTED if payment.status.value == "disputed" else Outcome.DISPUTE_CLOSED
