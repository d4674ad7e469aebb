"""Payments in the JSON API v1: a hold's card payment, confirm after Stripe.js, refunds."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from flask_login import current_user

from app.api import BEARER, ID, ErrorSchema, require_json_body, require_token
from app.api.parsing import ApiBlueprint
from app.extensions import csrf
from app.models import AppointmentStatus, PaymentStatus, Role
from app.rbac import login_required, permission_required, roles_required
from app.services.payments import cards, refunds, settle

bp = ApiBlueprint(
    "payments_api", __name__, url_prefix="/api/v1", description="Card payments (Stripe)"
)
csrf.exempt(bp)  # bearer tokens only, as the rest of the API
bp.before_request(require_token)
bp.before_request(require_json_body)


class CheckoutPaymentSchema(ma.Schema):
    """The "payment" block of a card booking: what Stripe.js needs to pay."""

    payment_intent_id = ma.fields.String()
    client_secret = ma.fields.String(allow_none=True)
    publishable_key = ma.fields.String(allow_none=True)
    amount = ma.fields.Integer(metadata={"description": "minor units"})
    currency = ma.fields.String()


class CheckoutSchema(ma.Schema):
    appointment_id = ma.fields.Integer(attribute="appointment.id")
    status = ma.fields.Enum(AppointmentStatus, by_value=True, attribute="appointment.status")
    hold_expires_at = ma.fields.DateTime(attribute="appointment.hold_expires_at", allow_none=True)
    payment = ma.fields.Method("_payment", allow_none=True)

    def _payment(self, checkout):
        return checkout.as_dict()


class RefundSchema(ma.Schema):
    id = ma.fields.Integer()
    amount = ma.fields.Integer()
    reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class PaymentSchema(ma.Schema):
    id = ma.fields.Integer()
    appointment_id = ma.fields.Integer()
    payment_intent_id = ma.fields.String(attribute="stripe_payment_intent_id", allow_none=True)
    status = ma.fields.Enum(PaymentStatus, by_value=True)
    amount = ma.fields.Integer()
    currency = ma.fields.String()
    amount_captured = ma.fields.Integer()
    amount_refunded = ma.fields.Integer()
    refund_owed = ma.fields.Integer()
    fee_amount = ma.fields.Integer(allow_none=True)
    dispute_status = ma.fields.String(allow_none=True)
    refunds = ma.fields.List(ma.fields.Nested(RefundSchema))


class ConfirmedSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.Enum(AppointmentStatus, by_value=True)
    payment = ma.fields.Method("_payment", allow_none=True)

    def _payment(self, appointment):
        payment = settle.latest_payment(appointment.id)
        return PaymentSchema().dump(payment) if payment else None


class RefundRequestSchema(ma.Schema):
    # Minor units, and only a whole number: 1.9 is refused (422), never truncated to 1 cent.
    amount = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=1),
        metadata={"description": "minor units (cents), a whole number"},
    )
    reason = ma.fields.String(load_default=None, validate=ma.validate.Length(max=255))


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route(f"/appointments/<{ID}:appointment_id>/payment", methods=["GET"])
@bp.response(200, CheckoutSchema)
@bp.alt_response(409, schema=ErrorSchema, description="not_payable: paid at the clinic, or no hold")
@bp.alt_response(503, schema=ErrorSchema, description="Card payments unavailable")
@bp.doc(**BEARER)
@roles_required(Role.PATIENT)
def appointment_payment(appointment_id: int):
    """The card payment of a held appointment (its PaymentIntent is opened on first use)."""
    return cards.begin_checkout(
        appointment_id=appointment_id, patient_id=current_user.id, now=_now()
    )


@bp.route(f"/appointments/<{ID}:appointment_id>/confirm-payment", methods=["POST"])
@bp.response(200, ConfirmedSchema)
@bp.alt_response(402, schema=ErrorSchema, description="card_declined")
@bp.alt_response(409, schema=ErrorSchema, description="payment_incomplete: not authorized yet")
@bp.alt_response(410, schema=ErrorSchema, description="hold_expired: the slot went meanwhile")
@bp.alt_response(503, schema=ErrorSchema, description="Card payments unavailable: nothing changed")
@bp.doc(**BEARER)
@login_required
def confirm_payment(appointment_id: int):
    """After Stripe.js: capture the authorized payment and confirm (a repeat is a no-op)."""
    return cards.confirm_paid(appointment_id=appointment_id, actor_id=current_user.id, now=_now())


@bp.route(f"/payments/<{ID}:payment_id>/refunds", methods=["POST"])
@bp.arguments(RefundRequestSchema)
@bp.response(201, PaymentSchema)
@bp.alt_response(409, schema=ErrorSchema, description="Nothing (or not that much) to refund")
@bp.alt_response(
    503, schema=ErrorSchema, description="Stripe unreachable: the refund is recorded, sent later"
)
@bp.doc(**BEARER)
@permission_required("payments.refund")
def refund(body, payment_id: int):
    """Refund part or all of a captured payment."""
    return refunds.refund_payment(
        payment_id=payment_id,
        amount=body["amount"],
        reason=body.get("reason"),
        actor_id=current_user.id,
        now=_now(),
    )
