"""The doctor's earnings: card payments through Carebook, and cash paid at the clinic."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import abort, render_template, request
from flask_babel import gettext

from app.doctor import bp
from app.doctor.context import FIRST_DAY, LAST_DAY, scoped_doctor
from app.models import Role
from app.rbac import roles_required
from app.services.payments import reports


def _month_arg() -> date | None:
    """?month=YYYY-MM; 400 when malformed or absurdly far away."""
    raw = request.args.get("month")
    if not raw:
        return None
    try:
        month = date.fromisoformat(f"{raw}-01")
    except ValueError:
        abort(400, gettext("Months are written YYYY-MM."))
    if not FIRST_DAY <= month <= LAST_DAY:
        abort(
            400,
            gettext(
                "Pick a month between %(year)s and %(year2)s.",
                year=FIRST_DAY.year,
                year2=LAST_DAY.year,
            ),
        )
    return month


@bp.route("/earnings")
@roles_required(Role.DOCTOR)
@scoped_doctor
def earnings(doctor):
    month = _month_arg()
    report = reports.doctor_earnings(doctor_id=doctor.id, month=month, now=datetime.now(UTC))
    return render_template(
        "doctor/earnings.html",
        doctor=doctor,
        report=report,
        prev_month=reports.add_months(report.month, -1),
        next_month=reports.add_months(report.month, 1),
    )
