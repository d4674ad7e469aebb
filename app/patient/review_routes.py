"""A patient reviews a completed visit from its page, and changes the review for 14 days."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user

from app.models import Role
from app.patient import bp
from app.patient.forms import ReviewForm
from app.rbac import roles_required
from app.services.errors import DomainError
from app.services.reviews import reviews


def _submitted() -> ReviewForm:
    form = ReviewForm()
    if not form.validate():
        if "csrf_token" in form.errors:
            abort(400, gettext("The form has expired: please try again."))
        for errors in (form.rating.errors, form.comment.errors):
            for error in errors:
                flash(error, "error")
        return None
    return form


def _back(appointment_id: int):
    return redirect(url_for("patient.appointment", appointment_id=appointment_id) + "#review")


@bp.post("/appointments/<int(max=2147483647):appointment_id>/review")
@roles_required(Role.PATIENT)
def write_review(appointment_id: int):
    form = _submitted()
    if form is None:
        return _back(appointment_id)
    try:
        reviews.write_review(
            appointment_id=appointment_id,
            patient_id=current_user.id,
            rating=int(form.rating.data),
            comment=form.comment.data,
            now=datetime.now(UTC),
        )
    except DomainError as exc:
        if exc.status_code in (403, 404):
            abort(404)  # someone else's visit: no hint it exists
        flash(exc.message, "error")
    else:
        flash(gettext("Thank you: your review is published on the doctor's page."), "success")
    return _back(appointment_id)


@bp.post("/reviews/<int(max=2147483647):review_id>/edit")
@roles_required(Role.PATIENT)
def edit_review(review_id: int):
    form = _submitted()
    try:
        if form is None:
            review = reviews.own_review(review_id=review_id, patient_id=current_user.id)
            return _back(review.appointment_id)
        review = reviews.edit_review(
            review_id=review_id,
            patient_id=current_user.id,
            rating=int(form.rating.data),
            comment=form.comment.data,
            now=datetime.now(UTC),
        )
    except DomainError as exc:
        if exc.status_code in (403, 404):
            abort(404)
        raise
    flash(gettext("Your review is changed."), "success")
    return _back(review.appointment_id)
