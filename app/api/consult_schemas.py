"""Schemas of on-demand consults."""

from __future__ import annotations

import marshmallow as ma

from app.api.appointment_schemas import AppointmentSchema
from app.api.fields import Flag, Text
from app.models import ConsultStatus, PaymentMethod
from app.services.consults.rules import visit_path


class SpecialtyRefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    slug = ma.fields.String()


class ConsultRequestSchema(ma.Schema):
    specialty = ma.fields.Raw(
        required=True,
        metadata={"description": "The specialty's id or slug", "oneOf": [
            {"type": "integer"}, {"type": "string"}]},
    )  # fmt: skip
    reason = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))
    payment_method = ma.fields.Enum(PaymentMethod, by_value=True, required=True)
    card_token = Text(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=255),
        metadata={"description": "Card consults: a Stripe.js card token (tok_...), authorised now"},
    )

    @ma.validates("specialty")
    def _specialty(self, value, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ma.ValidationError("The specialty is an id or a slug.")


class ConsultSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.Enum(ConsultStatus, by_value=True)
    specialty = ma.fields.Nested(SpecialtyRefSchema)
    reason = ma.fields.String(allow_none=True)
    payment_method = ma.fields.Enum(PaymentMethod, by_value=True)
    price = ma.fields.Function(lambda c: {"amount": c.amount, "currency": c.currency})
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    offered = ma.fields.Function(
        lambda c: c.offered_at is not None,
        metadata={"description": "On-call doctors see it (a card consult once its hold stands)"},
    )
    appointment_id = ma.fields.Integer(allow_none=True)
    visit_url = ma.fields.Function(
        lambda c: visit_path(c.appointment_id) if c.appointment_id else None,
        metadata={"description": "Once accepted: the video visit to join"},
    )


class CardCheckSchema(ma.Schema):
    status = ma.fields.Constant("requires_action")
    client_secret = ma.fields.String()
    publishable_key = ma.fields.String(allow_none=True)


class RequestedConsultSchema(ConsultSchema):
    payment = ma.fields.Nested(
        CardCheckSchema,
        allow_none=True,
        metadata={
            "description": "Card consults whose bank asks for a 3-D Secure check: finish it "
            "with Stripe.js (confirmCardPayment with client_secret), then POST "
            "/consults/{id}/confirm-payment. Doctors see the request once the hold stands."
        },
    )


class ConsultListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ConsultSchema))


class AcceptedConsultSchema(AppointmentSchema):
    """The appointment an accepted consult became."""

    consult_id = ma.fields.Function(lambda a: a.consult_id)
    visit_url = ma.fields.Function(lambda a: visit_path(a.id))


class OnCallSchema(ma.Schema):
    on_call = Flag(required=True)


class OnCallStateSchema(ma.Schema):
    doctor_id = ma.fields.Integer(attribute="id")
    on_call = ma.fields.Boolean()
