"""On-demand consults: a patient asks, on-call doctors of the specialty see and accept."""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import current_user

from app.api import BEARER, ID, ErrorSchema, bp, request_now
from app.api.consult_schemas import (
    AcceptedConsultSchema,
    ConsultListSchema,
    ConsultRequestSchema,
    ConsultSchema,
    OnCallSchema,
    OnCallStateSchema,
    RequestedConsultSchema,
)
from app.auth import limits
from app.models import Appointment, Consult, Role
from app.rbac import login_required, roles_required
from app.services.consults import consults

NOT_YOURS = "No such consult (or not one the caller may see)"


@dataclass
class _Requested:
    """A new consult with the card check its bank asks for, if any."""

    consult: Consult
    payment: consults.CardCheck | None

    def __getattr__(self, name):
        return getattr(self.consult, name)


@dataclass
class _Accepted:
    appointment: Appointment
    consult_id: int

    def __getattr__(self, name):
        return getattr(self.appointment, name)


@bp.route("/consults", methods=["POST"])
@bp.arguments(ConsultRequestSchema)
@bp.response(201, RequestedConsultSchema)
@bp.alt_response(402, schema=ErrorSchema, description="card_declined")
@bp.alt_response(404, schema=ErrorSchema, description="specialty_not_found")
@bp.alt_response(409, schema=ErrorSchema, description="consult_open: one request at a time")
@bp.alt_response(429, schema=ErrorSchema, description="Too many tries (BOOKING_RATE_LIMIT)")
@bp.alt_response(503, schema=ErrorSchema, description="Card payments unavailable: nothing held")
@bp.doc(**BEARER)
@roles_required(Role.PATIENT)
@limits.apply(limits.booking)
def request_consult(body):
    """Ask for an urgent video consult in a specialty. Card: `card_token` is authorised now
    (captured when a doctor accepts, released if nobody does); `payment` says when the bank
    asks for a 3-D Secure check first."""
    consult = consults.request_consult(patient_id=current_user.id, now=request_now(), **body)
    check = None
    if consult.offered_at is None:
        check = consults.pending_card_check(consult_id=consult.id, patient_id=current_user.id)
    return _Requested(consult, check)


@bp.route(f"/consults/<{ID}:consult_id>/confirm-payment", methods=["POST"])
@bp.response(200, ConsultSchema)
@bp.alt_response(402, schema=ErrorSchema, description="card_declined: the check failed")
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.alt_response(409, schema=ErrorSchema, description="payment_incomplete: check unfinished")
@bp.doc(**BEARER)
@roles_required(Role.PATIENT)
def confirm_consult_payment(consult_id: int):
    """After the bank's 3-D Secure check: the hold stands and doctors see the request, or
    the check failed and the request is withdrawn."""
    return consults.confirm_card_check(
        consult_id=consult_id, patient_id=current_user.id, now=request_now()
    )


@bp.route("/consults", methods=["GET"])
@bp.response(200, ConsultListSchema)
@bp.alt_response(403, schema=ErrorSchema, description="not_on_call (doctors)")
@bp.doc(**BEARER)
@roles_required(Role.PATIENT, Role.DOCTOR)
def list_consults():
    """Doctors on call: the requests they may take now, oldest first. Patients: their own,
    newest first."""
    if current_user.role is Role.DOCTOR:
        items = consults.offered_consults(doctor_user_id=current_user.id, now=request_now())
    else:
        items = consults.patient_consults(patient_id=current_user.id)
    return {"items": items}


@bp.route(f"/consults/<{ID}:consult_id>")
@bp.response(200, ConsultSchema)
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.doc(**BEARER)
@login_required
def get_consult(consult_id: int):
    """A consult's state: its patient, its doctor, or an on-call doctor who may take it."""
    return consults.get_consult(consult_id=consult_id, viewer_id=current_user.id, now=request_now())


@bp.route(f"/consults/<{ID}:consult_id>/accept", methods=["POST"])
@bp.response(200, AcceptedConsultSchema)
@bp.alt_response(403, schema=ErrorSchema, description="not_on_call, wrong_specialty")
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.alt_response(409, schema=ErrorSchema, description="consult_taken, consult_closed, doctor_busy")
@bp.doc(**BEARER)
@roles_required(Role.DOCTOR)
def accept_consult(consult_id: int):
    """An on-call doctor takes the consult: 200 with the confirmed video appointment
    (starting now) and `visit_url`; the first accept wins, later ones get 409
    consult_taken."""
    appointment = consults.accept_consult(
        consult_id=consult_id, doctor_user_id=current_user.id, now=request_now()
    )
    return _Accepted(appointment, consult_id)


@bp.route(f"/consults/<{ID}:consult_id>/cancel", methods=["POST"])
@bp.response(200, ConsultSchema)
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.alt_response(409, schema=ErrorSchema, description="consult_taken, consult_closed")
@bp.doc(**BEARER)
@roles_required(Role.PATIENT)
def cancel_consult(consult_id: int):
    """The patient withdraws a request nobody accepted yet (its card hold is released)."""
    return consults.cancel_consult(
        consult_id=consult_id, patient_id=current_user.id, now=request_now()
    )


@bp.route("/doctors/me/on-call", methods=["POST"])
@bp.arguments(OnCallSchema)
@bp.response(200, OnCallStateSchema)
@bp.alt_response(409, schema=ErrorSchema, description="not_listed: profile incomplete")
@bp.doc(**BEARER)
@roles_required(Role.DOCTOR)
def set_on_call(body):
    """Switch yourself on call (you see and may take consults of your specialties) or off."""
    return consults.set_on_call(
        doctor_user_id=current_user.id, on_call=body["on_call"], now=request_now()
    )
