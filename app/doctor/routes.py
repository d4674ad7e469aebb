"""The doctor's appointments: a day and a week view, and what the doctor does with a booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from flask import abort, flash, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from app.doctor import bp
from app.doctor.calendar import placed, week_grid
from app.doctor.context import (
    attempt,
    back,
    clinic_zone,
    monday_of,
    parse_day,
    scoped_doctor,
)
from app.doctor.forms import ReasonForm
from app.models import AppointmentStatus, Role
from app.rbac import current_actor, roles_required
from app.services.localtime import day_bounds
from app.services.scheduling import appointments, booking
from app.templating import local_format

VIEWS = ("day", "week")
# What a doctor does from this page (patients' actions such as rebook are elsewhere).
DOCTOR_ACTIONS = ("approve", "reject", "cancel", "complete", "no_show")
ACTION_DONE = {
    "approve": lazy_gettext("Approved: %(patient)s, %(when)s."),
    "reject": lazy_gettext("Rejected: %(patient)s, %(when)s."),
    "cancel": lazy_gettext("Cancelled: %(patient)s, %(when)s."),
    "complete": lazy_gettext("Marked completed: %(patient)s, %(when)s."),
    "no_show": lazy_gettext("Marked as a no-show: %(patient)s, %(when)s."),
}


@bp.route("/")
@roles_required(Role.DOCTOR)
@scoped_doctor
def dashboard(doctor):
    now = datetime.now(UTC)
    tz = clinic_zone(doctor)
    today = now.astimezone(tz).date()
    view = request.args.get("view", "day")
    if view not in VIEWS:
        abort(400, gettext("The view is day or week."))
    day = parse_day(request.args.get("date"), today)
    first, length = (monday_of(day), 7) if view == "week" else (day, 1)
    start = day_bounds(first, tz)[0]
    end = day_bounds(first + timedelta(days=length - 1), tz)[1]
    # The day view keeps cancellations (greyed); on the grid a freed time may be re-booked.
    schedule = appointments.doctor_schedule(
        doctor_id=doctor.id, start=start, end=end, include_cancelled=view == "day"
    )
    pending = appointments.pending_approvals(doctor_id=doctor.id, now=now)
    viewer = current_actor()
    actions = {}
    for appointment in (*schedule, *pending):
        allowed = booking.allowed_actions(appointment, viewer, now)
        actions[appointment.id] = [x for x in DOCTOR_ACTIONS if x in allowed]
    step = timedelta(days=length)
    return render_template(
        "doctor/dashboard.html",
        doctor=doctor,
        tz=tz,
        now=now,
        view=view,
        day=day,
        today=today,
        first=first,
        prev_day=first - step,
        next_day=first + step,
        items=[placed(a, tz) for a in schedule],
        grid=week_grid(schedule, first, tz) if view == "week" else None,
        pending=[placed(a, tz) for a in pending],
        actions=actions,
    )


def _act(action: str, appointment_id: int, reason: str | None):
    common = {"appointment_id": appointment_id, "actor_id": current_user.id}
    now = datetime.now(UTC)
    calls = {
        "approve": partial(booking.approve_appointment, **common, now=now),
        "reject": partial(booking.reject_appointment, **common, now=now, reason=reason),
        "cancel": partial(booking.cancel_appointment, **common, now=now, reason=reason),
        "complete": partial(
            booking.record_outcome, **common, now=now, outcome=AppointmentStatus.COMPLETED
        ),
        "no_show": partial(
            booking.record_outcome, **common, now=now, outcome=AppointmentStatus.NO_SHOW
        ),
    }
    return calls[action]()


# Ids are PostgreSQL integers: a larger one is a 404, not an overflow.
@bp.route("/appointments/<int(max=2147483647):appointment_id>/<action>", methods=["POST"])
@roles_required(Role.DOCTOR)
def appointment_action(appointment_id: int, action: str):
    """Approve, reject, cancel, or record the outcome of one appointment."""
    if action not in DOCTOR_ACTIONS:
        abort(404)
    form = ReasonForm()
    if not form.validate():
        for error in form.reason.errors:
            flash(error, "error")
        return back("doctor.dashboard", "view", "date")
    done, appointment = attempt(lambda: _act(action, appointment_id, form.reason.data))
    if done:
        tz = appointment.doctor.timezone
        when = local_format(appointment.starts_at, tz, "%a %d %b, %H:%M")
        flash(
            str(ACTION_DONE[action]) % {"patient": appointment.patient.name, "when": when},
            "success",
        )
    return back("doctor.dashboard", "view", "date")
