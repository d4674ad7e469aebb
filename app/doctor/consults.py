"""The doctor's side of on-demand consults: going on call, and taking a request (the panel
on the dashboard, templates/doctor/_consults.html)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm

from app.doctor import bp
from app.models import Doctor, Role
from app.rbac import roles_required
from app.services.consults import consults
from app.services.consults.rules import visit_path
from app.services.errors import DomainError, NotFound


@bp.app_context_processor
def consult_panel_helper() -> dict:
    def consult_panel(doctor: Doctor) -> tuple[bool, list]:
        return consults.doctor_panel(doctor_id=doctor.id, now=datetime.now(UTC))

    return {"consult_panel": consult_panel}


def _dashboard():
    return redirect(url_for("doctor.dashboard"))


@bp.route("/on-call", methods=["POST"])
@roles_required(Role.DOCTOR)
def on_call():
    wanted = request.form.get("on_call") == "1"
    done, _ = _flashing(
        lambda: consults.set_on_call(
            doctor_user_id=current_user.id, on_call=wanted, now=datetime.now(UTC)
        )
    )
    if not done:
        return _dashboard()
    flash(
        gettext("You are on call: consult requests of your specialties appear here.")
        if wanted
        else gettext("You are off call."),
        "success",
    )
    return _dashboard()


@bp.route("/consults/<int(max=2147483647):consult_id>/accept", methods=["POST"])
@roles_required(Role.DOCTOR)
def accept_consult(consult_id: int):
    """Take a consult: straight to its video visit, or back with the reason it is not yours."""
    done, appointment = _flashing(
        lambda: consults.accept_consult(
            consult_id=consult_id, doctor_user_id=current_user.id, now=datetime.now(UTC)
        )
    )
    return redirect(visit_path(appointment.id)) if done else _dashboard()


def _flashing(action) -> tuple[bool, object]:
    """Run a button's use case (after its CSRF check): a refusal (taken, busy, not on call,
    the card could not be charged...) is flashed and gives (False, None); a missing consult
    stays a 404."""
    if not FlaskForm().validate():
        flash(gettext("The form expired: please try again."), "error")
        return False, None
    try:
        return True, action()
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
        return False, None
