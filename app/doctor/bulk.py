"""Slots in bulk from a weekly pattern: preview what it makes, then create it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from app.doctor import bp
from app.doctor.calendar import planned_days, skipped_label
from app.doctor.context import clinic_zone, monday_of, scope_of, scoped_doctor
from app.doctor.forms import WeeklyPatternForm, add_domain_error
from app.models import Role
from app.rbac import roles_required
from app.services.errors import Conflict, InvalidInput
from app.services.scheduling import availability

SKIPPED_FLASHED = 10  # a flash lives in the session cookie: keep it short


def _skipped_message(skipped: list) -> str:
    shown = "; ".join(
        f"{skipped_label(s.local_start)} ({s.reason})" for s in skipped[:SKIPPED_FLASHED]
    )
    more = len(skipped) - min(len(skipped), SKIPPED_FLASHED)
    if more:
        return ngettext(
            "Skipped: %(shown)s; and %(num)d more.",
            "Skipped: %(shown)s; and %(num)d more.",
            more,
            shown=shown,
        )
    return gettext("Skipped: %(shown)s.", shown=shown)


@bp.route("/slots/bulk", methods=["GET", "POST"])
@roles_required(Role.DOCTOR)
@scoped_doctor
def bulk_slots(doctor):
    now = datetime.now(UTC)
    tz = clinic_zone(doctor)
    form = WeeklyPatternForm()
    if not form.is_submitted():
        next_monday = monday_of(now.astimezone(tz).date()) + timedelta(days=7)
        form.start_date.data = next_monday
        form.end_date.data = next_monday + timedelta(days=4)
    status, plan = 200, None
    if form.validate_on_submit():
        pattern = form.pattern()
        use_case = (
            availability.create_weekly_slots if form.create.data else availability.plan_weekly_slots
        )
        try:
            result = use_case(
                doctor_id=doctor.id, pattern=pattern, actor_id=current_user.id, now=now
            )
        except (Conflict, InvalidInput) as exc:
            add_domain_error(form, exc)
            status = exc.status_code
        else:
            if not form.create.data:
                plan = result
            else:
                flash(
                    ngettext(
                        "Created %(num)d slot; skipped %(skipped)s.",
                        "Created %(num)d slots; skipped %(skipped)s.",
                        result.created,
                        skipped=len(result.skipped),
                    ),
                    "success",
                )
                if result.skipped:
                    flash(_skipped_message(result.skipped), "info")
                week = monday_of(pattern.start_date).isoformat()
                return redirect(url_for("doctor.slots", week=week, **scope_of(doctor)))
    elif form.errors:
        status = 422
    return render_template(
        "doctor/bulk.html",
        form=form,
        doctor=doctor,
        tz=tz,
        plan=plan,
        planned=planned_days(plan.planned, tz) if plan else [],
        skipped=[(skipped_label(s.local_start), s.reason) for s in plan.skipped] if plan else [],
    ), status
