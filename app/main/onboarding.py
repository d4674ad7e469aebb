"""A doctor applies to join (public, rate-limited); staff decide at /admin/applications."""

from datetime import UTC, datetime

from flask import render_template
from flask_babel import gettext
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from app.auth import limits
from app.i18n import current_locale
from app.main import bp
from app.main.forms import DoctorApplicationForm
from app.rbac import public
from app.services import onboarding
from app.services.directory import list_clinics, list_specialties
from app.services.errors import DomainError


@bp.route("/doctors/apply", methods=["GET", "POST"])
@public
@limits.apply(limits.doctor_application)
def doctor_apply():
    form = DoctorApplicationForm()
    form.clinic_id.choices = [SelectChoice("", _("Choose your clinic"))] + [
        SelectChoice(str(c.id), gettext("%(name)s, %(city)s", name=c.name, city=c.city))
        for c in list_clinics()
    ]
    form.specialty_ids.choices = [SelectChoice(s.id, s.name) for s in list_specialties()]
    if form.validate_on_submit():
        try:
            onboarding.apply(
                onboarding.ApplicationInput(
                    name=form.name.data,
                    email=form.email.data,
                    phone=form.phone.data,
                    licence_number=form.licence_number.data,
                    clinic_id=int(form.clinic_id.data),
                    specialty_ids=list(form.specialty_ids.data or []),
                    message=form.message.data,
                    locale=current_locale(),
                ),
                now=datetime.now(UTC),
            )
        except DomainError as exc:
            field = getattr(form, (exc.details or {}).get("field") or "", None)
            (field.errors if field is not None else form.form_errors).append(exc.message)
            return render_template("main/doctor_apply.html", form=form), exc.status_code
        # The same answer whether the address had an application waiting or not.
        return render_template("main/doctor_applied.html", email=form.email.data.strip())
    return render_template("main/doctor_apply.html", form=form), 422 if form.errors else 200
