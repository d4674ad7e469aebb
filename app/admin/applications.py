"""Doctors' applications (doctors.manage): the list, one application, verify, decline."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.admin import bp, form_error
from app.admin.forms import ApplicationFilterForm, ConfirmForm, DeclineApplicationForm
from app.models import ApplicationStatus
from app.rbac import permission_required
from app.services import access, onboarding
from app.services.errors import DomainError

ID = "int(max=2147483647)"


@bp.route("/applications")
@permission_required(onboarding.PERMISSION)
def applications():
    form = ApplicationFilterForm(request.args)
    if not form.validate():
        return render_template("admin/applications.html", form=form, results=None), 422
    status = None if form.status.data == "all" else ApplicationStatus(form.status.data)
    results = onboarding.list_applications(
        actor_id=current_user.id, status=status, page=form.page.data or 1
    )
    return render_template(
        "admin/applications.html",
        form=form,
        results=results,
        args={k: v for k, v in request.args.items() if k != "page" and v},
    )


@bp.route(f"/applications/<{ID}:application_id>")
@permission_required(onboarding.PERMISSION)
def application(application_id: int):
    return _page(application_id, DeclineApplicationForm(formdata=None))


@bp.route(f"/applications/<{ID}:application_id>/verify", methods=["POST"])
@permission_required(onboarding.PERMISSION)
def verify_application(application_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _page(application_id, DeclineApplicationForm(formdata=None), 400)
    try:
        doctor = onboarding.verify(
            application_id=application_id,
            actor_id=current_user.id,
            now=datetime.now(UTC),
            ip=request.remote_addr,
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return _page(application_id, DeclineApplicationForm(formdata=None), exc.status_code)
    gaps = ", ".join(access.listing_gaps(doctor))
    flash(
        gettext(
            "%(name)s is verified: their account is open and a link to choose a password is on "
            "its way. Still to do before patients find them: %(gaps)s.",
            name=doctor.name,
            gaps=gaps,
        ),
        "success",
    )
    return redirect(url_for("admin.edit_doctor", doctor_id=doctor.id))


@bp.route(f"/applications/<{ID}:application_id>/decline", methods=["POST"])
@permission_required(onboarding.PERMISSION)
def decline_application(application_id: int):
    form = DeclineApplicationForm()
    if not form.validate_on_submit():
        return _page(application_id, form, 422)
    try:
        declined = onboarding.decline(
            application_id=application_id,
            reason=form.reason.data,
            actor_id=current_user.id,
            now=datetime.now(UTC),
            ip=request.remote_addr,
        )
    except DomainError as exc:
        form_error(form, exc)
        return _page(application_id, form, exc.status_code)
    flash(
        gettext("%(name)s's application is declined; they are told why.", name=declined.name),
        "success",
    )
    return redirect(url_for("admin.applications"))


def _page(application_id: int, form, status: int = 200):
    shown = onboarding.get_application(application_id, actor_id=current_user.id)
    return render_template(
        "admin/application.html",
        application=shown,
        specialties=onboarding.specialties_of(shown),
        form=form,
        confirm_form=ConfirmForm(formdata=None),
    ), status
