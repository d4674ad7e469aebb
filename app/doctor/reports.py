"""The doctor's reports: their own bookings, utilisation, lead time, patients, ratings and
busiest hours, with charts, tables and CSV (app/reports, services/reports)."""

from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user

from app.doctor import bp
from app.doctor.context import scope_of, scoped_doctor
from app.models import Role
from app.rbac import roles_required
from app.reports import cell, charts, csv_download, page_scope, requested_scope
from app.services.reports import build_report


@bp.route("/reports")
@roles_required(Role.DOCTOR)
@scoped_doctor
def reports(doctor):
    scope, error = page_scope(current_user.id, doctor_id=doctor.id)
    report = build_report(scope)
    kept = scope_of(doctor)

    def csv_url(name: str) -> str:
        args = {k: v for k, v in scope.as_args().items() if k != "doctor_id"}
        return url_for("doctor.reports_csv", name=name, **args, **kept)

    page = render_template(
        "doctor/reports.html",
        doctor=doctor,
        report=report,
        charts=charts(report),
        csv_url=csv_url,
        cell=cell,
        error=error,
    )
    return page, 422 if error else 200


@bp.route("/reports/<name>.csv")
@roles_required(Role.DOCTOR)
@scoped_doctor
def reports_csv(doctor, name: str):
    scope = requested_scope(current_user.id, doctor_id=doctor.id)
    return csv_download(scope, name, f"carebook-doctor-{doctor.id}")
