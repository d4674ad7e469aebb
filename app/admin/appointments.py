"""Admin pages for appointments (bookings.view, bookings.manage): the search, one appointment
with its history, and cancelling on the clinic's behalf (booking.cancel_appointment with a
staff actor: the clinic's cancellation refunds a card payment in full)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.admin import bp, form_error
from app.admin.forms import AppointmentSearchForm, ClinicCancelForm
from app.models import AppointmentStatus
from app.rbac import permission_required
from app.services.access import has_permission
from app.services.directory import list_clinics
from app.services.errors import DomainError
from app.services.payments.money import format_money
from app.services.scheduling import booking, staff_view
from app.services.scheduling.policy import policy_for

ID = "int(max=2147483647)"
VIEW = ("bookings.view", "bookings.manage")


@bp.route("/appointments")
@permission_required(*VIEW)
def appointments():
    form = AppointmentSearchForm(request.args)
    form.clinic.choices = [SelectChoice("", gettext("Any clinic"))] + [
        SelectChoice(str(c.id), c.name) for c in list_clinics()
    ]
    results, status = None, 200
    if form.validate():
        try:
            results = staff_view.search_appointments(
                staff_view.AppointmentQuery(
                    patient=form.patient.data,
                    doctor=form.doctor.data,
                    clinic_id=int(form.clinic.data) if form.clinic.data else None,
                    status=AppointmentStatus(form.status.data) if form.status.data else None,
                    since=form.since.data,
                    until=form.until.data,
                ),
                actor_id=current_user.id,
                page=form.page.data or 1,
            )
        except DomainError as exc:
            form_error(form, exc)
            status = exc.status_code
    else:
        status = 422
    return render_template(
        "admin/appointments.html",
        form=form,
        results=results,
        args={k: v for k, v in request.args.items() if k != "page" and v},
    ), status


@bp.route(f"/appointments/<{ID}:appointment_id>")
@permission_required(*VIEW)
def appointment(appointment_id: int):
    return _page(appointment_id, ClinicCancelForm(formdata=None))


@bp.route(f"/appointments/<{ID}:appointment_id>/cancel", methods=["POST"])
@permission_required("bookings.manage")
def cancel_appointment(appointment_id: int):
    form = ClinicCancelForm()
    if not form.validate_on_submit():
        return _page(appointment_id, form, 422)
    try:
        booking.cancel_appointment(
            appointment_id=appointment_id,
            actor_id=current_user.id,
            now=datetime.now(UTC),
            reason=form.reason.data,
        )
    except DomainError as exc:
        form_error(form, exc)
        return _page(appointment_id, form, exc.status_code)
    history = staff_view.appointment_history(
        appointment_id=appointment_id, actor_id=current_user.id
    )
    refunded = [
        format_money(p.refund_target, p.currency) for p in history.payments if p.refund_target
    ]
    if refunded:
        message = gettext(
            "Appointment #%(appointment_id)s is cancelled on the clinic's behalf; %(amount)s goes "
            "back to the card. The patient and the doctor are told.",
            appointment_id=appointment_id,
            amount=gettext(" and ").join(refunded),
        )
    else:
        message = gettext(
            "Appointment #%(appointment_id)s is cancelled on the clinic's behalf. The patient and "
            "the doctor are told.",
            appointment_id=appointment_id,
        )
    flash(
        message,
        "success",
    )
    return redirect(url_for("admin.appointment", appointment_id=appointment_id))


def _page(appointment_id: int, form, status: int = 200):
    history = staff_view.appointment_history(
        appointment_id=appointment_id, actor_id=current_user.id
    )
    now = datetime.now(UTC)
    rules = policy_for(history.appointment, current_user, now)
    return render_template(
        "admin/appointment.html",
        history=history,
        a=history.appointment,
        form=form,
        can_cancel=staff_view.may_cancel(current_user) and rules.can_cancel,
        may_cancel=staff_view.may_cancel(current_user),
        cancel_refusal=rules.cancel_refusal,
        can_see_payments=has_permission(current_user, "payments.view"),
    ), status
