"""Reports across clinics, specialties and doctors, with the money (reports.view)."""

from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.rbac import permission_required
from app.reports import cell, charts, csv_download, page_scope, requested_scope
from app.services.reports import build_report
from app.services.reports.filters import PERMISSION, filter_options


@bp.route("/reports")
@permission_required(PERMISSION)
def reports():
    scope, error = page_scope(current_user.id)
    report = build_report(scope)

    def csv_url(name: str) -> str:
        return url_for("admin.reports_csv", name=name, **scope.as_args())

    page = render_template(
        "admin/reports.html",
        report=report,
        charts=charts(report),
        csv_url=csv_url,
        cell=cell,
        options=filter_options(),
        error=error,
    )
    return page, 422 if error else 200


@bp.route("/reports/<name>.csv")
@permission_required(PERMISSION)
def reports_csv(name: str):
    return csv_download(requested_scope(current_user.id), name, "carebook")
