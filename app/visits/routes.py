"""The room page, the doctor's outcome from it, and the dashboard's open-room list."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from app.auth.signin import now
from app.chat.forms import MessageForm
from app.errors import wants_json
from app.models import AppointmentStatus, Role
from app.rbac import login_required, roles_required
from app.services.errors import DomainError
from app.services.scheduling import booking
from app.services.visits import page
from app.visits import bp
from app.visits.forms import OutcomeForm

ID = "int(max=2147483647)"
OUTCOMES = {"complete": AppointmentStatus.COMPLETED, "no_show": AppointmentStatus.NO_SHOW}
DONE = {
    "complete": lazy_gettext("Marked completed."),
    "no_show": lazy_gettext("Marked as a no-show."),
}


@bp.get(f"/<{ID}:appointment_id>")
@login_required
def room(appointment_id: int):
    """The room of a video visit (404 but for its patient and doctor); before and after its
    window a page saying when it opens or that it closed."""
    shown = page.visit_page(appointment_id=appointment_id, user_id=current_user.id, now=now())
    return render_template(
        "visits/room.html",
        page=shown,
        visit=shown.visit,
        a=shown.visit.appointment,
        thread=shown.thread,
        form=MessageForm(),
        outcome_form=OutcomeForm(),
    )


@bp.post(f"/<{ID}:appointment_id>/outcome")
@roles_required(Role.DOCTOR)
def outcome(appointment_id: int):
    """The doctor records completed / no-show from the room (the dashboard's own rule,
    booking.record_outcome). A fetch that accepts JSON gets JSON and the call goes on."""
    form = OutcomeForm()
    back = redirect(url_for("visits.room", appointment_id=appointment_id), 303)
    if not form.validate_on_submit():
        message = gettext("Choose completed or no-show.")
        if wants_json():
            return jsonify(error={"code": "invalid_input", "message": message}), 422
        flash(message, "error")
        return back
    try:
        booking.record_outcome(
            appointment_id=appointment_id,
            actor_id=current_user.id,
            outcome=OUTCOMES[form.outcome.data],
            now=now(),
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        if wants_json():
            return jsonify(error={"code": exc.code, "message": exc.message}), exc.status_code
        flash(exc.message, "error")
        return back
    if wants_json():
        return jsonify(ok=True, outcome=form.outcome.data, message=str(DONE[form.outcome.data]))
    flash(str(DONE[form.outcome.data]), "success")
    return back


@bp.get("/waiting")
@roles_required(Role.DOCTOR)
def waiting():
    """The dashboard's list of open rooms alone, refreshed live (static/js/visit-waiting.js)."""
    return render_template("doctor/_visit_waiting.html", doctor=None, fragment=True)
