"""Booking a slot and managing one's appointments: list, detail, cancel, reschedule, .ics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth import limits
from app.models import AppointmentStatus, Role
from app.patient import bp, presenters
from app.patient.forms import BookForm, CancelForm, RescheduleForm
from app.patient.presenters import by_local_day
from app.rbac import current_actor, roles_required
from app.services.errors import DomainError, SlotNotFound
from app.services.localtime import zone
from app.services.payments import gateway, settle
from app.services.scheduling import booking, ics
from app.services.scheduling.appointments import patient_appointments, slot_with_doctor
from app.services.scheduling.policy import policy_for
from app.services.scheduling.search import slot_listing
from app.templating import local_format

RESCHEDULE_DAYS = 14


def _when(appointment) -> str:
    return local_format(appointment.starts_at, appointment.doctor.timezone)


def _render_book(slot, form: BookForm, *, error: str | None = None, alternatives=()):
    return render_template(
        "patient/book.html",
        slot=slot,
        form=form,
        error=error,
        alternatives=alternatives,
        card_available=gateway.is_configured(),
    )


@bp.route("/book/<int:slot_id>", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@limits.apply(limits.booking)
def book(slot_id: int):
    slot = slot_with_doctor(slot_id)
    form = BookForm()
    if not form.is_submitted() and not gateway.is_configured():
        form.payment_method.data = "cash"
    if not form.is_submitted():
        return _render_book(slot, form)
    if not form.validate():
        return _render_book(slot, form), 422
    try:
        appointment = booking.book_appointment(
            patient_id=current_user.id,
            slot_id=slot_id,
            payment_method=form.payment_method.data,
            notes=form.notes.data,
            now=datetime.now(UTC),
        ).appointment
    except booking.SlotUnavailable as exc:
        return _render_book(
            slot,
            form,
            error="Sorry, that slot was just taken.",
            alternatives=presenters.alternatives(exc.details),
        ), exc.status_code
    except DomainError as exc:
        return _render_book(slot, form, error=exc.message), exc.status_code
    if appointment.status is AppointmentStatus.PENDING_PAYMENT:
        return redirect(url_for("payments.checkout", appointment_id=appointment.id))
    doctor = appointment.doctor.name
    if appointment.status is AppointmentStatus.PENDING_APPROVAL:
        flash(f"Requested: awaiting the doctor's approval ({doctor}, {_when(appointment)}).")
    else:
        flash(f"Booked: {doctor}, {_when(appointment)}.", "success")
    return redirect(url_for("patient.appointment", appointment_id=appointment.id))


@bp.get("/appointments")
@roles_required(Role.PATIENT)
def appointments():
    now = datetime.now(UTC)
    upcoming, history = patient_appointments(patient_id=current_user.id, now=now)
    viewer = current_actor()
    actions = {a.id: booking.allowed_actions(a, viewer, now) for a in (*upcoming, *history)}
    return render_template(
        "patient/appointments.html",
        upcoming=upcoming,
        past=history,
        actions=actions,
        cancel_form=CancelForm(),
    )


@bp.get("/appointments/<int:appointment_id>")
@roles_required(Role.PATIENT)
def appointment(appointment_id: int):
    now = datetime.now(UTC)
    appointment = booking.get_appointment(appointment_id=appointment_id, viewer_id=current_user.id)
    viewer = current_actor()
    rules = policy_for(appointment, viewer, now)
    return render_template(
        "patient/appointment.html",
        appointment=appointment,
        actions=booking.allowed_actions(appointment, viewer, now),
        deadline=rules.deadline,
        late_percent=rules.late_percent,
        payment=settle.latest_payment(appointment.id),
        now=now,
        cancel_form=CancelForm(),
    )


@bp.post("/appointments/<int:appointment_id>/cancel")
@roles_required(Role.PATIENT)
def cancel(appointment_id: int):
    if not CancelForm().validate():
        abort(400, "The form has expired: please try again.")
    try:
        appointment = booking.cancel_appointment(
            appointment_id=appointment_id, actor_id=current_user.id, now=datetime.now(UTC)
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise  # someone else's appointment: the 404 page, no hint it exists
        flash(exc.message, "error")
    else:
        flash(f"Cancelled: {appointment.doctor.name}, {_when(appointment)}.", "success")
    return redirect(url_for("patient.appointment", appointment_id=appointment_id))


def _render_reschedule(appointment_id: int, form: RescheduleForm, now: datetime, error=None):
    appointment = booking.get_appointment(appointment_id=appointment_id, viewer_id=current_user.id)
    tz = zone(appointment.doctor.timezone)
    slots = slot_listing(
        doctor_id=appointment.doctor_id,
        start=now,
        end=now + timedelta(days=RESCHEDULE_DAYS),
        available_only=True,
        now=now,
    )
    return render_template(
        "patient/reschedule.html",
        appointment=appointment,
        actions=booking.allowed_actions(appointment, current_actor(), now),
        days=by_local_day((slot for slot, _ in slots), tz),
        form=form,
        error=error,
    )


@bp.route("/appointments/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
def reschedule(appointment_id: int):
    now = datetime.now(UTC)
    form = RescheduleForm()
    if form.validate_on_submit():
        try:
            moved = booking.reschedule_appointment(
                appointment_id=appointment_id,
                new_slot_id=form.slot_id.data,
                actor_id=current_user.id,
                now=now,
            )
        except DomainError as exc:
            if exc.status_code == 404 and not isinstance(exc, SlotNotFound):
                raise
            return _render_reschedule(appointment_id, form, now, exc.message), exc.status_code
        flash(f"Rescheduled: {moved.doctor.name}, {_when(moved)}.", "success")
        return redirect(url_for("patient.appointment", appointment_id=moved.id))
    status = 422 if form.errors else 200
    return _render_reschedule(appointment_id, form, now), status


@bp.get("/appointments/<int:appointment_id>.ics")
@roles_required(Role.PATIENT)
def appointment_ics(appointment_id: int):
    appointment = booking.get_appointment(appointment_id=appointment_id, viewer_id=current_user.id)
    body = ics.appointment_ics(appointment, now=datetime.now(UTC))
    filename = f"carebook-appointment-{appointment.id}.ics"
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
