"""One appointment as its doctor sees it: the patient, their note, earlier visits, contact
details and the doctor's private visit notes."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from app.doctor import bp
from app.doctor.context import clinic_zone
from app.doctor.forms import VisitNoteForm, add_domain_error
from app.models import Role
from app.rbac import roles_required
from app.services.errors import InvalidInput
from app.services.scheduling import visit_notes
from app.services.visits import presence, rooms

# Ids are PostgreSQL integers: a larger one is a 404, not an overflow.
APPOINTMENT = "/appointments/<int(max=2147483647):appointment_id>"


def _page(appointment_id: int, form: VisitNoteForm, status: int = 200):
    record = visit_notes.patient_record(appointment_id=appointment_id, actor_id=current_user.id)
    tz = clinic_zone(record.appointment.doctor)
    today = datetime.now(UTC).astimezone(tz).date()
    video = rooms.is_video(record.appointment)
    return render_template(
        "doctor/appointment.html",
        record=record,
        a=record.appointment,
        doctor=record.appointment.doctor,
        tz=tz,
        age=record.age_on(today),
        form=form,
        visit_log=presence.visit_log(appointment_id=appointment_id, viewer_id=current_user.id)
        if video
        else None,
    ), status


@bp.route(APPOINTMENT)
@roles_required(Role.DOCTOR)
def appointment_page(appointment_id: int):
    return _page(appointment_id, VisitNoteForm())


@bp.route(f"{APPOINTMENT}/notes", methods=["POST"])
@roles_required(Role.DOCTOR)
def add_visit_note(appointment_id: int):
    form = VisitNoteForm()
    if not form.validate_on_submit():
        return _page(appointment_id, form, 422)
    try:
        visit_notes.add_visit_note(
            appointment_id=appointment_id,
            actor_id=current_user.id,
            text=form.text.data,
            now=datetime.now(UTC),
        )
    except InvalidInput as exc:
        add_domain_error(form, exc)
        return _page(appointment_id, form, exc.status_code)
    flash(gettext("Note saved. Only you can read it."), "success")
    return redirect(url_for("doctor.appointment_page", appointment_id=appointment_id))
