"""Booking a slot and managing one's appointments: list, detail, cancel, reschedule, .ics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.auth import limits
from app.models import AppointmentStatus, Role
from app.patient import bp, presenters
from app.patient.forms import BookForm, CancelForm, RescheduleForm, WeekForm
from app.patient.presenters import by_local_day, closed_slot_ids, review_panel, week_days
from app.rbac import current_actor, roles_required
from app.services.errors import DomainError, SlotNotFound
from app.services.localtime import day_bounds, zone
from app.services.payments import gateway, settle
from app.services.scheduling import booking, ics
from app.services.scheduling.appointments import patient_appointments, slot_with_doctor
from app.services.scheduling.policy import inside_window, policy_for, window_terms
from app.services.scheduling.search import slot_listing
from app.templating import local_format

# How far ahead the reschedule picker's weeks go (as the doctor page's).
FURTHEST_WEEK = timedelta(days=3660)


def _when(appointment) -> str:
    return local_format(appointment.starts_at, appointment.doctor.timezone)


def _render_book(slot, form: BookForm, *, error: str | None = None, alternatives=()):
    clinic = slot.doctor.clinic
    return render_template(
        "patient/book.html",
        slot=slot,
        form=form,
        policy=window_terms(clinic),
        closed=inside_window(slot.start_at, clinic, datetime.now(UTC)),
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
            acknowledge_policy=form.acknowledge_policy.data,
        ).appointment
    except booking.SlotUnavailable as exc:
        return _render_book(
            slot,
            form,
            error=gettext("Sorry, that slot was just taken."),
            alternatives=presenters.alternatives(exc.details),
        ), exc.status_code
    except DomainError as exc:
        return _render_book(slot, form, error=exc.message), exc.status_code
    if appointment.status is AppointmentStatus.PENDING_PAYMENT:
        return redirect(url_for("payments.checkout", appointment_id=appointment.id))
    doctor = appointment.doctor.name
    if appointment.status is AppointmentStatus.PENDING_APPROVAL:
        flash(
            gettext(
                "Requested: awaiting the doctor's approval (%(doctor)s, %(when)s).",
                doctor=doctor,
                when=_when(appointment),
            )
        )
    else:
        flash(
            gettext("Booked: %(doctor)s, %(when)s.", doctor=doctor, when=_when(appointment)),
            "success",
        )
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
        # Booked (or moved here) after its deadline: the window was accepted at booking.
        booked_inside=appointment.created_at >= rules.deadline,
        payment=settle.latest_payment(appointment.id),
        now=now,
        cancel_form=CancelForm(),
        **review_panel(appointment, viewer.id, now),
    )


@bp.post("/appointments/<int:appointment_id>/cancel")
@roles_required(Role.PATIENT)
def cancel(appointment_id: int):
    if not CancelForm().validate():
        abort(400, gettext("The form has expired: please try again."))
    try:
        appointment = booking.cancel_appointment(
            appointment_id=appointment_id, actor_id=current_user.id, now=datetime.now(UTC)
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise  # someone else's appointment: the 404 page, no hint it exists
        flash(exc.message, "error")
    else:
        flash(
            gettext(
                "Cancelled: %(doctor)s, %(when)s.",
                doctor=appointment.doctor.name,
                when=_when(appointment),
            ),
            "success",
        )
    return redirect(url_for("patient.appointment", appointment_id=appointment_id))


def _week(first: date | None, today: date) -> date:
    first = max(first or today, today)  # past weeks have nothing to move to
    if first > today + FURTHEST_WEEK:
        abort(422, gettext("Pick a week within the next ten years."))
    return first


def _render_reschedule(appointment_id: int, form: RescheduleForm, now: datetime, error=None):
    appointment = booking.get_appointment(appointment_id=appointment_id, viewer_id=current_user.id)
    clinic = appointment.doctor.clinic
    tz = zone(appointment.doctor.timezone)
    week_form = WeekForm(formdata=request.args)
    if not week_form.validate():
        abort(422, gettext("The week is a date such as 2031-03-07."))
    today = now.astimezone(tz).date()
    first = _week(week_form.week.data, today)
    days = week_days(first)
    start, _ = day_bounds(days[0], tz)
    _, end = day_bounds(days[-1], tz)
    slots = [
        slot
        for slot, _ in slot_listing(
            doctor_id=appointment.doctor_id,
            start=max(start, now),
            end=end,
            available_only=True,
            now=now,
        )
        if slot.id != appointment.slot_id
    ]
    return render_template(
        "patient/reschedule.html",
        appointment=appointment,
        actions=booking.allowed_actions(appointment, current_actor(), now),
        week=by_local_day(slots, tz, days),
        prev_week=max(first - timedelta(days=7), today) if first > today else None,
        next_week=first + timedelta(days=7),
        closed=closed_slot_ids(slots, clinic, now),
        policy=window_terms(clinic),
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
                acknowledge_policy=form.acknowledge_policy.data,
            )
        except DomainError as exc:
            if exc.status_code == 404 and not isinstance(exc, SlotNotFound):
                raise
            return _render_reschedule(appointment_id, form, now, exc.message), exc.status_code
        flash(
            gettext(
                "Rescheduled: %(doctor)s, %(when)s.", doctor=moved.doctor.name, when=_when(moved)
            ),
            "success",
        )
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
