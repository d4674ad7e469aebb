"""See a doctor now: ask for an on-demand video consult, wait for a doctor, join the visit."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from app.auth import limits
from app.models import ConsultStatus, Role
from app.patient import bp
from app.patient.forms import ConsultForm
from app.rbac import roles_required
from app.services import directory
from app.services.consults import consults
from app.services.consults.rules import patient_payload, visit_path
from app.services.errors import DomainError, NotFound
from app.services.payments import gateway


def _render_form(form: ConsultForm, error: str | None = None):
    return render_template(
        "patient/consult_new.html",
        form=form,
        error=error,
        card_available=gateway.is_configured(),
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
    )


@bp.route("/consults/new", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@limits.apply(limits.booking)
def consult_new():
    waiting = consults.open_consult(patient_id=current_user.id)
    if waiting is not None:
        return redirect(url_for("patient.consult_page", consult_id=waiting.id))
    form = ConsultForm()
    form.specialty.choices = [SelectChoice("", gettext("Choose a specialty"))] + [
        SelectChoice(s.slug, s.name) for s in directory.list_specialties()
    ]
    if not form.is_submitted() and not gateway.is_configured():
        form.payment_method.data = "cash"
    if not form.is_submitted():
        return _render_form(form)
    if not form.validate():
        return _render_form(form), 422
    try:
        consult = consults.request_consult(
            patient_id=current_user.id,
            specialty=form.specialty.data,
            reason=form.reason.data,
            payment_method=form.payment_method.data,
            card_token=form.card_token.data or None,
            now=datetime.now(UTC),
        )
    except DomainError as exc:
        return _render_form(form, error=exc.message), exc.status_code
    return redirect(url_for("patient.consult_page", consult_id=consult.id))


def _own(consult_id: int):
    return consults.get_consult(
        consult_id=consult_id, viewer_id=current_user.id, now=datetime.now(UTC)
    )


@bp.route("/consults/<int(max=2147483647):consult_id>")
@roles_required(Role.PATIENT)
def consult_page(consult_id: int):
    consult = _own(consult_id)
    if consult.status is ConsultStatus.ACCEPTED:
        return redirect(visit_path(consult.appointment_id))
    check = None
    if consult.offered_at is None and consult.status is ConsultStatus.WAITING:
        check = consults.pending_card_check(consult_id=consult.id, patient_id=current_user.id)
    return render_template(
        "patient/consult_waiting.html",
        consult=consult,
        form=FlaskForm(),
        card_check=check,
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
    )


@bp.route("/consults/<int(max=2147483647):consult_id>/confirm-payment", methods=["POST"])
@roles_required(Role.PATIENT)
def consult_confirm_payment(consult_id: int):
    """The page finished the bank's 3-D Secure check: see whether the hold stands."""
    if _flashing(
        lambda: consults.confirm_card_check(
            consult_id=consult_id, patient_id=current_user.id, now=datetime.now(UTC)
        )
    ):
        flash(
            gettext("Your bank's check went through: the doctors on call see your request."),
            "success",
        )
    return redirect(url_for("patient.consult_page", consult_id=consult_id))


@bp.route("/consults/<int(max=2147483647):consult_id>/state")
@roles_required(Role.PATIENT)
def consult_state(consult_id: int):
    """The waiting page's fallback when no socket carries the news: the consult's state."""
    return jsonify(patient_payload(_own(consult_id)))


@bp.route("/consults/<int(max=2147483647):consult_id>/cancel", methods=["POST"])
@roles_required(Role.PATIENT)
def consult_cancel(consult_id: int):
    if _flashing(
        lambda: consults.cancel_consult(
            consult_id=consult_id, patient_id=current_user.id, now=datetime.now(UTC)
        )
    ):
        flash(gettext("Your consult request was withdrawn. Nothing was charged."), "success")
    return redirect(url_for("patient.consult_page", consult_id=consult_id))


def _flashing(action) -> bool:
    """Run a button's use case (after its CSRF check): a refusal is flashed and gives False;
    a consult that is not the patient's stays a 404."""
    if not FlaskForm().validate():
        flash(gettext("The form expired: please try again."), "error")
        return False
    try:
        action()
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
        return False
    return True
