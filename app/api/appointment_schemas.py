"""Schemas of appointments and of the waitlist."""

from __future__ import annotations

import marshmallow as ma

from app.api import request_now
from app.api.doctor_schemas import FeeSchema
from app.api.fields import Day, Flag, Flattened, Id, PageNumber, Text
from app.models import AppointmentStatus, PaymentMethod, SlotMode
from app.payments.api import CheckoutPaymentSchema
from app.rbac import current_actor
from app.services.scheduling import appointments, booking
from app.services.visits import rooms


class PersonSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class AppointmentClinicSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    timezone = ma.fields.String()


class AppointmentSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.Enum(AppointmentStatus, by_value=True)
    slot_id = ma.fields.Integer()
    doctor = ma.fields.Nested(PersonSchema)
    patient = ma.fields.Nested(PersonSchema)
    start = ma.fields.DateTime(attribute="starts_at")
    end = ma.fields.DateTime(attribute="ends_at")
    mode = ma.fields.Enum(SlotMode, by_value=True, attribute="slot.mode")
    payment_method = ma.fields.Enum(PaymentMethod, by_value=True)
    fee = Flattened(FeeSchema)
    hold_expires_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "An unpaid card hold lapses then"}
    )
    notes = ma.fields.String(allow_none=True)
    rescheduled_from_id = ma.fields.Integer(allow_none=True)
    cancelled_at = ma.fields.DateTime(allow_none=True)
    cancellation_reason = ma.fields.String(allow_none=True)
    clinic = ma.fields.Nested(AppointmentClinicSchema, attribute="doctor.clinic", allow_none=True)
    actions = ma.fields.Method(
        "allowed_actions",
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "What the caller may do now: cancel, reschedule, approve, ...",
        },
    )

    visit = ma.fields.Method(
        "visit_summary",
        allow_none=True,
        metadata={
            "type": "object",
            "nullable": True,
            "properties": {
                "url": {"type": "string", "format": "uri"},
                "opens_at": {"type": "string", "format": "date-time"},
                "closes_at": {"type": "string", "format": "date-time"},
            },
            "description": "A video appointment's room (absent in person): the page's url, or "
            "the clinic's external meeting link while the room is open; it opens 10 minutes "
            "before the start and closes 30 minutes after the end",
        },
    )

    def allowed_actions(self, appointment) -> list[str]:
        return booking.allowed_actions(appointment, current_actor(), request_now())

    @ma.post_dump
    def _only_video_visits(self, data: dict, **_) -> dict:
        if "visit" in data and data["visit"] is None:
            del data["visit"]  # in person: no room
        return data

    def visit_summary(self, appointment) -> dict | None:
        summary = rooms.visit_summary(appointment, current_actor(), request_now())
        if summary is None:
            return None
        return {
            "url": summary["url"],
            "opens_at": summary["opens_at"].isoformat(),
            "closes_at": summary["closes_at"].isoformat(),
        }


class BookingResultSchema(AppointmentSchema):
    # Card bookings: what Stripe.js needs to pay the hold. Cash: null.
    payment = ma.fields.Nested(CheckoutPaymentSchema, allow_none=True)


class AppointmentPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AppointmentSchema))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()


class AppointmentListArgsSchema(ma.Schema):
    page = PageNumber(1)
    per_page = PageNumber(20, appointments.MAX_PER_PAGE)
    status = ma.fields.Enum(AppointmentStatus, by_value=True)


class BookingSchema(ma.Schema):
    slot_id = Id(required=True)
    payment_method = ma.fields.Enum(PaymentMethod, by_value=True, required=True)
    notes = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=2000))
    acknowledge_policy = Flag(
        load_default=False,
        metadata={
            "description": "Required (true) for a slot inside the clinic's no-change window; "
            "without it the request is refused with 422 policy_not_acknowledged"
        },
    )


class ReasonSchema(ma.Schema):
    reason = Text(allow_none=True, validate=ma.validate.Length(max=255))


class RescheduleSchema(ma.Schema):
    slot_id = Id(required=True)
    acknowledge_policy = Flag(
        load_default=False,
        metadata={
            "description": "Required (true) for a slot inside the clinic's no-change window; "
            "without it the request is refused with 422 policy_not_acknowledged"
        },
    )


class WaitlistRequestSchema(ma.Schema):
    day = Day(required=True)


class WaitlistEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    doctor_id = ma.fields.Integer()
    day = ma.fields.Date()
