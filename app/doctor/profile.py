"""The doctor's public profile: the photo and the languages patients see on search and on
the doctor's page."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext
from flask_login import current_user

from app.doctor import bp
from app.doctor.context import back, scoped_doctor
from app.doctor.forms import LanguagesForm, PhotoForm, RemovePhotoForm
from app.models import Role
from app.rbac import roles_required
from app.security import takes_upload
from app.services import doctor_profile, photos
from app.services.errors import InvalidInput
from app.services.languages import language_choices


def _languages_form(**kwargs) -> LanguagesForm:
    form = LanguagesForm(**kwargs)
    form.languages.choices = language_choices()
    return form


def _page(doctor, *, languages_form=None, photo_form=None, status=200):
    return render_template(
        "doctor/profile.html",
        doctor=doctor,
        languages_form=languages_form
        or _languages_form(formdata=None, languages=doctor.language_codes),
        photo_form=photo_form or PhotoForm(formdata=None),
        remove_form=RemovePhotoForm(formdata=None),
        max_photo_mb=photos.max_photo_bytes() // (1024 * 1024),
    ), status


@bp.route("/profile")
@roles_required(Role.DOCTOR)
@scoped_doctor
def profile(doctor):
    return _page(doctor)


@bp.route("/profile/languages", methods=["POST"])
@roles_required(Role.DOCTOR)
@scoped_doctor
def profile_languages(doctor):
    form = _languages_form()  # the posted boxes only: none ticked is none spoken
    if not form.validate():
        return _page(doctor, languages_form=form, status=422)
    try:
        doctor_profile.set_doctor_languages(
            doctor.id, form.languages.data or [], actor_id=current_user.id
        )
    except InvalidInput as exc:
        form.languages.errors = [*form.languages.errors, exc.message]
        return _page(doctor, languages_form=form, status=exc.status_code)
    flash(gettext("Languages saved."), "success")
    return back("doctor.profile")


@bp.route("/profile/photo", methods=["POST"])
@takes_upload("PHOTO_MAX_BYTES", page="doctor.profile")
@roles_required(Role.DOCTOR)
@scoped_doctor
def profile_photo(doctor):
    form = PhotoForm()
    if not form.validate():
        return _page(doctor, photo_form=form, status=422)
    # The body limit already bounds it; one byte more than allowed is enough to say so.
    data = form.photo.data.read(photos.max_photo_bytes() + 1)
    try:
        photos.set_doctor_photo(doctor.id, data, actor_id=current_user.id)
    except InvalidInput as exc:
        form.photo.errors = [*form.photo.errors, exc.message]
        return _page(doctor, photo_form=form, status=exc.status_code)
    flash(gettext("Photo saved: patients see it on search and on your page."), "success")
    return back("doctor.profile")


@bp.route("/profile/photo/remove", methods=["POST"])
@roles_required(Role.DOCTOR)
@scoped_doctor
def remove_profile_photo(doctor):
    if RemovePhotoForm().validate():
        photos.remove_doctor_photo(doctor.id, actor_id=current_user.id)
        flash(gettext("Photo removed: patients see your initials instead."), "success")
    return back("doctor.profile")
