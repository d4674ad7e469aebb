"""Reports for doctors and staff: bookings, utilisation, lead time, patients, ratings,
busiest hours, and for staff revenue, payment methods and doctors (queries.py); what a
report covers and who may see it (filters.py); CSV cells safe for spreadsheets (csvsafe.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.services.reports import queries
from app.services.reports.filters import ReportScope

# The tables a page shows and a CSV downloads, by slug; the staff-only ones apart.
DOCTOR_TABLES = (
    "bookings",
    "utilisation",
    "lead_time",
    "lead_time_bands",
    "patients",
    "ratings",
    "busiest_hours",
)
STAFF_TABLES = ("revenue", "payment_methods", "doctors")
DETAIL = "appointments"


@dataclass
class Report:
    scope: ReportScope
    tables: dict[str, queries.Table] = field(default_factory=dict)
    totals: dict = field(default_factory=dict)
    lead_summary: dict = field(default_factory=dict)
    revenue_totals: list[dict] = field(default_factory=list)


def table_names(scope: ReportScope) -> tuple[str, ...]:
    return DOCTOR_TABLES + (STAFF_TABLES if scope.staff else ())


def build_table(scope: ReportScope, name: str) -> queries.Table:
    """One table of the report. Raises KeyError for a name the scope does not show."""
    if name not in table_names(scope):
        raise KeyError(name)
    if name in ("lead_time", "lead_time_bands"):
        # A table has no median (the page's summary has): not counted for it.
        by_period, bands, _summary = queries.lead_time(scope, median=False)
        return by_period if name == "lead_time" else bands
    return {
        "bookings": queries.bookings,
        "utilisation": queries.utilisation,
        "patients": queries.patients,
        "ratings": queries.ratings,
        "busiest_hours": queries.busiest_hours,
        "revenue": queries.revenue,
        "payment_methods": queries.payment_methods,
        "doctors": queries.by_doctor,
    }[name](scope)


def build_report(scope: ReportScope) -> Report:
    """Every table of the scope's report (the money ones for staff only)."""
    report = Report(scope)
    for name in table_names(scope):
        if name == "lead_time":
            by_period, bands, summary = queries.lead_time(scope)
            report.tables["lead_time"], report.tables["lead_time_bands"] = by_period, bands
            report.lead_summary = summary
        elif name != "lead_time_bands":
            report.tables[name] = build_table(scope, name)
    report.totals = queries.booking_totals(report.tables["bookings"])
    if "revenue" in report.tables:
        report.revenue_totals = queries.revenue_totals(report.tables["revenue"])
    return report
