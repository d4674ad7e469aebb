"""Admin pages for the directory: clinics, specialties and doctors."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.admin import acting, actor_and_ip, bp, form_error
from app.admin.forms import ClinicForm, ConfirmForm, DoctorForm, SpecialtyForm
from app.rbac import permission_required
from app.services import access, directory
from app.services.errors import DomainError
from app.services.payments.money import to_major, to_minor

# --- clinics ------------------------------------------------------------------------------


@bp.route("/clinics")
@permission_required("content.manage")
def clinics():
    return render_template("admin/clinics.html", clinics=directory.list_clinics())


@bp.route("/clinics/new", methods=["GET", "POST"], defaults={"clinic_id": None})
@bp.route("/clinics/<int:clinic_id>/edit", methods=["GET", "POST"])
@permission_required("content.manage")
def edit_clinic(clinic_id: int | None):
    clinic = directory.get_clinic(clinic_id) if clinic_id is not None else None
    form = ClinicForm(obj=clinic)
    if not form.is_submitted():
        if clinic is None:
            form.currency.data = "USD"
        else:
            form.reminder_hours.data = directory.reminder_hours_text(clinic.reminder_offsets)
    if form.validate_on_submit():
        try:
            saved = directory.save_clinic(
                directory.ClinicInput(
                    name=form.name.data,
                    city=form.city.data,
                    timezone=form.timezone.data,
                    currency=form.currency.data,
                    address=form.address.data,
                    latitude=form.latitude.data,
                    longitude=form.longitude.data,
                    phone=form.phone.data,
                    email=form.email.data,
                    website=form.website.data,
                    cancellation_window_hours=form.cancellation_window_hours.data,
                    accepts_cash=form.accepts_cash.data,
                    late_cancellation_refund_percent=form.late_cancellation_refund_percent.data,
                    reminder_hours=form.reminder_hours.data or "",
                    # Left empty: unchanged (14 for a new clinic).
                    chat_days_after_visit=_or_current(form.chat_days_after_visit.data, clinic),
                    meeting_url_template=form.meeting_url_template.data or None,
                ),
                clinic_id=clinic_id,
                **acting(),
            )
        except DomainError as exc:
            form_error(form, exc)
            return _clinic_form(form, clinic), exc.status_code
        flash(gettext("%(name)s saved.", name=saved.name), "success")
        return redirect(url_for("admin.clinics"))
    return _clinic_form(form, clinic), 422 if form.errors else 200


def _or_current(days: int | None, clinic) -> int:
    if days is not None:
        return days
    return clinic.chat_days_after_visit if clinic is not None else 14


def _clinic_form(form, clinic):
    return render_template("admin/clinic_form.html", form=form, clinic=clinic)


# --- specialties --------------------------------------------------------------------------


@bp.route("/specialties", methods=["GET", "POST"])
@permission_required("content.manage")
def specialties():
    form = SpecialtyForm()
    if form.validate_on_submit():
        try:
            specialty = directory.create_specialty(form.name.data, **actor_and_ip())
        except DomainError as exc:
            form_error(form, exc)
            return _specialties_page(form), exc.status_code
        flash(gettext("%(name)s added.", name=specialty.name), "success")
        return redirect(url_for("admin.specialties"))
    return _specialties_page(form), 422 if form.errors else 200


@bp.route("/specialties/<int:specialty_id>/rename", methods=["POST"])
@permission_required("content.manage")
def rename_specialty(specialty_id: int):
    form = SpecialtyForm(prefix=f"s{specialty_id}")
    if not form.validate_on_submit():
        return _specialties_page(SpecialtyForm(formdata=None), renamed=(specialty_id, form)), 422
    try:
        specialty = directory.rename_specialty(specialty_id, form.name.data, **actor_and_ip())
    except DomainError as exc:
        form_error(form, exc)
        return _specialties_page(
            SpecialtyForm(formdata=None), renamed=(specialty_id, form)
        ), exc.status_code
    flash(gettext("Renamed to %(name)s.", name=specialty.name), "success")
    return redirect(url_for("admin.specialties"))


def _specialties_page(form, renamed=None):
    rows = []
    for specialty in directory.list_specialties():
        if renamed and renamed[0] == specialty.id:
            rows.append((specialty, renamed[1]))
        else:
            rows.append(
                (specialty, SpecialtyForm(formdata=None, prefix=f"s{specialty.id}", obj=specialty))
            )
    return render_template("admin/specialties.html", form=form, rows=rows)


# --- doctors ------------------------------------------------------------------------------


@bp.route("/doctors")
@permission_required("doctors.manage")
def doctors():
    query = request.args.get("q", "")[:254]
    doctors = directory.list_doctors(query)
    return render_template(
        "admin/doctors.html",
        doctors=doctors,
        gaps={d.id: access.listing_gaps(d) for d in doctors},
        q=query,
        confirm_form=ConfirmForm(),
    )


@bp.route("/doctors/<int:doctor_id>/edit", methods=["GET", "POST"])
@permission_required("doctors.manage")
def edit_doctor(doctor_id: int):
    doctor = access.managed_doctor(current_user.id, doctor_id)
    form = DoctorForm(
        obj=doctor,
        clinic_id=str(doctor.clinic_id or ""),
        specialty_ids=[s.id for s in doctor.specialties],
        fee=to_major(doctor.fee_amount),
    )
    form.clinic_id.choices = [SelectChoice("", gettext("No clinic"))] + [
        SelectChoice(
            str(c.id),
            gettext(
                "%(name)s · %(city)s (%(currency)s)", name=c.name, city=c.city, currency=c.currency
            ),
        )
        for c in directory.list_clinics()
    ]
    form.specialty_ids.choices = [SelectChoice(s.id, s.name) for s in directory.list_specialties()]
    if form.validate_on_submit():
        try:
            saved = directory.update_doctor(
                doctor_id,
                directory.DoctorInput(
                    clinic_id=int(form.clinic_id.data) if form.clinic_id.data else None,
                    specialty_ids=tuple(form.specialty_ids.data or ()),
                    fee_amount=to_minor(form.fee.data),
                    licence_number=form.licence_number.data,
                    bio=form.bio.data,
                    requires_approval=form.requires_approval.data,
                ),
                **actor_and_ip(),
            )
        except DomainError as exc:
            form_error(form, exc)
            return _doctor_form(form, doctor), exc.status_code
        flash(gettext("%(name)s saved.", name=saved.name), "success")
        return redirect(url_for("admin.doctors"))
    return _doctor_form(form, doctor), 422 if form.errors else 200


def _doctor_form(form, doctor):
    return render_template(
        "admin/doctor_form.html", form=form, doctor=doctor, confirm_form=ConfirmForm()
    )


@bp.route("/doctors/<int:doctor_id>/verify", methods=["POST"], defaults={"verified": True})
@bp.route("/doctors/<int:doctor_id>/unverify", methods=["POST"], defaults={"verified": False})
@permission_required("doctors.manage")
def verify_doctor(doctor_id: int, verified: bool):
    doctor = directory.set_doctor_verified(doctor_id, verified, **acting())
    flash(
        f"{doctor.name} is marked verified." if verified else f"{doctor.name} is unverified.",
        "success",
    )
    return redirect(url_for("admin.doctors"))
