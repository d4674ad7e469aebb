"""Reports: bookings by status per day, week or month, as JSON or CSV."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from app.api import BEARER, ErrorSchema, bp
from app.models import Role
from app.rbac import roles_required
from app.reports import csv_download, requested_scope
from app.services.errors import InvalidInput
from app.services.reports import queries


def _json_period(row: dict) -> dict:
    return {**row, "period": row["period"].isoformat()}


@bp.route("/reports/bookings", methods=["GET"])
@bp.alt_response(200, description='`{"items": [{"period", "booked", ...}]}`, or CSV')
@bp.alt_response(403, schema=ErrorSchema, description="A patient, a helper without "
                 "reports.view, or a doctor naming another doctor")  # fmt: skip
@bp.alt_response(404, schema=ErrorSchema, description="No such clinic or specialty")
@bp.alt_response(422, schema=ErrorSchema, description="Bad dates, from after to, more than "
                 "366 days, or group_by other than day, week, month")  # fmt: skip
@bp.doc(
    **BEARER,
    parameters=[
        {"in": "query", "name": name, "schema": {"type": kind}, "description": text}
        for name, kind, text in (
            ("from", "string", "First local day, YYYY-MM-DD (default: 29 days before to)"),
            ("to", "string", "Last local day, YYYY-MM-DD (default: today)"),
            ("group_by", "string", "day (default), week (ISO, from Monday) or month"),
            ("clinic_id", "integer", "Staff: one clinic's doctors"),
            ("specialty_id", "integer", "Staff: one specialty's doctors"),
            ("doctor_id", "integer", "Staff: one doctor; a doctor may name only themself"),
            ("format", "string", "json (default) or csv"),
        )
    ],
)
@roles_required(Role.DOCTOR, Role.HELPER)
def report_bookings():
    """Bookings by status per period (each clinic's local days). Doctors see their own
    only; staff need reports.view. Rates are fractions (null without a denominator)."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise InvalidInput("'format' must be json or csv.", field="format")
    scope = requested_scope(current_user.id)
    if fmt == "csv":
        return csv_download(scope, "bookings", "carebook")
    table = queries.bookings(scope)
    return {
        "items": [_json_period(row) for row in table.rows],
        "from": scope.start.isoformat(),
        "to": scope.end.isoformat(),
        "group_by": scope.group_by,
    }
