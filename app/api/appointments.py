"""Appointments: booking, listing, cancelling, rescheduling, the doctor's decisions; the
waitlist. Who may do what to which appointment is the booking service's to decide."""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import current_user

from app.api import BEARER, ID, ErrorSchema, bp, request_now
from app.api.appointment_schemas import (
    AppointmentListArgsSchema,
    AppointmentPageSchema,
    AppointmentSchema,
    BookingResultSchema,
    BookingSchema,
    ReasonSchema,
    RescheduleSchema,
    WaitlistEntrySchema,
    WaitlistRequestSchema,
)
from app.auth import limits
from app.models import Appointment, AppointmentStatus, Role
from app.rbac import login_required, roles_required
from app.services.scheduling import appointments, booking

NOT_YOURS = "No such appointment (or not one of yours)"


@dataclass
class _Booked:
    """An appointment with the payment block of its booking (None for cash)."""

    appointment: Appointment
    payment: dict | None

    def __getattr__(self, name):
        return getattr(self.appointment, name)


@bp.route("/appointments", methods=["POST"])
@bp.arguments(BookingSchema)
@bp.response(201, BookingResultSchema)
@bp.alt_response(
    409,
    schema=ErrorSchema,
    description="slot_unavailable (with alternatives), overlapping_appointment, or "
    "booking_limit_reached (too many upcoming appointments; `limit`, `scope`)",
)
@bp.alt_response(404, schema=ErrorSchema, description="slot_not_found")
@bp.alt_response(429, schema=ErrorSchema, description="Too many bookings in a short time")
@bp.alt_response(503, schema=ErrorSchema, description="Card payments unavailable: no hold kept")
@bp.doc(**BEARER)
@roles_required(Role.PATIENT)
@limits.apply(limits.booking)
def book(body):
    """Book a slot: cash is confirmed (or awaits approval); card is a 5-minute hold with a
    PaymentIntent to confirm with Stripe.js (`payment`), then `confirm-payment`."""
    checkout = booking.book_appointment(patient_id=current_user.id, now=request_now(), **body)
    return _Booked(checkout.appointment, checkout.as_dict())


@bp.route("/appointments", methods=["GET"])
@bp.arguments(AppointmentListArgsSchema, location="query")
@bp.response(200, AppointmentPageSchema)
@bp.doc(**BEARER)
@login_required
def list_appointments(args):
    """The caller's appointments (a doctor's own, all for staff), newest first."""
    page = appointments.appointments_for(viewer_id=current_user.id, **args)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}


@bp.route(f"/appointments/<{ID}:appointment_id>")
@bp.response(200, AppointmentSchema)
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.doc(**BEARER)
@login_required
def get_appointment(appointment_id: int):
    """One appointment the caller may see."""
    return booking.get_appointment(appointment_id=appointment_id, viewer_id=current_user.id)


@bp.route(f"/appointments/<{ID}:appointment_id>/cancel", methods=["POST"])
@bp.arguments(ReasonSchema, required=False)
@bp.response(200, AppointmentSchema)
@bp.alt_response(409, schema=ErrorSchema, description="policy_window_closed, invalid_status")
@bp.doc(**BEARER)
@login_required
def cancel(body, appointment_id: int):
    """Cancel: patients until the clinic's policy window, the doctor and staff always."""
    return booking.cancel_appointment(
        appointment_id=appointment_id,
        actor_id=current_user.id,
        now=request_now(),
        reason=body.get("reason"),
    )


@bp.route(f"/appointments/<{ID}:appointment_id>/reschedule", methods=["POST"])
@bp.arguments(RescheduleSchema)
@bp.response(201, AppointmentSchema)
@bp.alt_response(409, schema=ErrorSchema, description="slot_unavailable, policy_window_closed")
@bp.doc(**BEARER)
@login_required
def reschedule(body, appointment_id: int):
    """Move to another free slot of the same doctor; returns the new appointment."""
    return booking.reschedule_appointment(
        appointment_id=appointment_id,
        new_slot_id=body["slot_id"],
        actor_id=current_user.id,
        now=request_now(),
        acknowledge_policy=body["acknowledge_policy"],
    )


@bp.route(f"/appointments/<{ID}:appointment_id>/approve", methods=["POST"])
@bp.response(200, AppointmentSchema)
@bp.alt_response(409, schema=ErrorSchema, description="Not awaiting approval")
@bp.doc(**BEARER)
@login_required
def approve(appointment_id: int):
    """The doctor (or staff) confirms a booking that awaits approval."""
    return booking.approve_appointment(
        appointment_id=appointment_id, actor_id=current_user.id, now=request_now()
    )


@bp.route(f"/appointments/<{ID}:appointment_id>/reject", methods=["POST"])
@bp.arguments(ReasonSchema, required=False)
@bp.response(200, AppointmentSchema)
@bp.alt_response(409, schema=ErrorSchema, description="Not awaiting approval")
@bp.doc(**BEARER)
@login_required
def reject(body, appointment_id: int):
    """The doctor (or staff) turns down a booking that awaits approval."""
    return booking.reject_appointment(
        appointment_id=appointment_id,
        actor_id=current_user.id,
        now=request_now(),
        reason=body.get("reason"),
    )


def _record_outcome(appointment_id: int, outcome: AppointmentStatus):
    return booking.record_outcome(
        appointment_id=appointment_id, outcome=outcome, actor_id=current_user.id, now=request_now()
    )


@bp.route(f"/appointments/<{ID}:appointment_id>/complete", methods=["POST"])
@bp.response(200, AppointmentSchema)
@bp.alt_response(409, schema=ErrorSchema, description="Not confirmed, or not started yet")
@bp.doc(**BEARER)
@login_required
def complete(appointment_id: int):
    """After the start, the doctor marks the visit completed."""
    return _record_outcome(appointment_id, AppointmentStatus.COMPLETED)


@bp.route(f"/appointments/<{ID}:appointment_id>/no-show", methods=["POST"])
@bp.response(200, AppointmentSchema)
@bp.alt_response(409, schema=ErrorSchema, description="Not confirmed, or not started yet")
@bp.doc(**BEARER)
@login_required
def no_show(appointment_id: int):
    """After the start, the doctor records that the patient did not come."""
    return _record_outcome(appointment_id, AppointmentStatus.NO_SHOW)


@bp.route(f"/doctors/<{ID}:doctor_id>/waitlist", methods=["POST"])
@bp.arguments(WaitlistRequestSchema)
@bp.response(201, WaitlistEntrySchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such doctor")
@bp.doc(**BEARER)
@roles_required(Role.PATIENT)
def join_waitlist(body, doctor_id: int):
    """Wait for a slot of this doctor to come free on a day (joining twice is one entry).

    The place is recorded, and a freed slot records a notice for the first patients waiting;
    delivering that notice (email, SMS, in-app) is not built yet."""
    return booking.join_waitlist(
        patient_id=current_user.id, doctor_id=doctor_id, day=body["day"], now=request_now()
    )
