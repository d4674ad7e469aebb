"""What the doctor's and the admin's report pages share: reading the filters, drawing the
charts beside their tables, and streaming any table as CSV. The figures come from
services/reports; nothing here counts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Response, abort, request, stream_with_context
from flask_babel import gettext

from app.reports.charts import bar_chart, line_chart
from app.services.errors import InvalidInput
from app.services.l10n import format_dt, format_number, locale_code
from app.services.reports import DETAIL, Report, build_table, table_names
from app.services.reports.csvsafe import csv_lines
from app.services.reports.filters import ReportScope, authorize, parse_scope
from app.services.reports.queries import APPOINTMENT_COLUMNS, appointment_rows

RATE_COLUMNS = {"cancellation_rate", "no_show_rate", "utilisation", "share"}
MONEY_COLUMNS = {"captured", "refunded", "net", "fees"}


def requested_scope(actor_id: int, **pinned) -> ReportScope:
    """The scope named by the query string (with `pinned` arguments over it), as the actor
    may see it. Raises InvalidInput (422) and Forbidden (403)."""
    args = {**request.args.to_dict(), **{k: str(v) for k, v in pinned.items()}}
    return authorize(actor_id, parse_scope(args, today=datetime.now(UTC).date()))


def page_scope(actor_id: int, **pinned) -> tuple[ReportScope, str | None]:
    """requested_scope for a page: refused filters give the default scope and the reason
    (shown above the form) instead of an error page."""
    try:
        return requested_scope(actor_id, **pinned), None
    except InvalidInput as exc:
        args = {k: str(v) for k, v in pinned.items()}
        return authorize(actor_id, parse_scope(args, today=datetime.now(UTC).date())), exc.message


def format_percent(rate: float) -> str:
    """0.125 -> '12.5%' (Spanish: '12,5 %')."""
    return format_number(rate * 100, "0.0") + ("%" if locale_code() == "en" else "\u00a0%")


def period_label(value, group_by: str) -> str:
    if not isinstance(value, date):
        return "" if value is None else str(value)
    if group_by == "month":
        return format_dt(value, "%b %Y")
    if group_by == "week":
        return gettext("w/c %(day)s", day=format_dt(value, "%d %b").lstrip("0"))
    return format_dt(value, "%d %b").lstrip("0")


def cell(key: str, value, group_by: str, row: dict | None = None) -> str:
    """A table cell as the page shows it (CSV keeps the raw values)."""
    from app.templating import money  # noqa: PLC0415 — the pages' money format

    if value is None:
        return "—"
    if key == "period":
        return period_label(value, group_by)
    if key == "band":
        return gettext(value)  # a lead-time band's name (N_ in services/reports/queries.py)
    if key in RATE_COLUMNS:
        return format_percent(value)
    if key in MONEY_COLUMNS and row and row.get("currency"):
        return money(value, row["currency"])
    return str(value)


def charts(report: Report) -> dict:
    """One SVG per table that has a chart, keyed by the table's name."""
    group_by = report.scope.group_by
    out = {}
    tables = report.tables

    def labels(table):
        return [period_label(r["period"], group_by) for r in table.rows]

    def column(table, key):
        return [r[key] for r in table.rows]

    b = tables["bookings"]
    out["bookings"] = bar_chart(
        gettext("Bookings by status"),
        labels(b),
        [
            (gettext("Completed"), column(b, "completed")),
            (gettext("Confirmed"), column(b, "confirmed")),
            (gettext("No-show"), column(b, "no_show")),
            (gettext("Cancelled"), column(b, "cancelled")),
            (gettext("Awaiting approval"), column(b, "pending_approval")),
            (gettext("Declined"), column(b, "rejected")),
        ],
    )
    u = tables["utilisation"]
    out["utilisation"] = line_chart(
        gettext("Utilisation"), labels(u), column(u, "utilisation"), percent=True
    )
    lead = tables["lead_time"]
    out["lead_time"] = line_chart(
        gettext("Average lead time (hours)"), labels(lead), column(lead, "average_hours")
    )
    bands = tables["lead_time_bands"]
    out["lead_time_bands"] = bar_chart(
        gettext("How far ahead patients book"),
        [gettext(r["band"]) for r in bands.rows],
        [(gettext("Bookings"), column(bands, "bookings"))],
    )
    p = tables["patients"]
    out["patients"] = bar_chart(
        gettext("New and returning patients"),
        labels(p),
        [(gettext("New"), column(p, "new")), (gettext("Returning"), column(p, "returning"))],
    )
    r = tables["ratings"]
    out["ratings"] = line_chart(gettext("Average rating"), labels(r), column(r, "average"), top=5)
    h = tables["busiest_hours"]
    out["busiest_hours"] = bar_chart(
        gettext("Bookings by hour of the day"),
        [row["hour"][:2] for row in h.rows],
        [(gettext("Bookings"), column(h, "bookings"))],
    )
    if "revenue" in tables:
        rev = tables["revenue"]
        currencies = sorted({row["currency"] for row in rev.rows})
        if len(currencies) == 1:
            out["revenue"] = bar_chart(
                gettext("Net revenue (%(currency)s, minor units)", currency=currencies[0]),
                [period_label(row["period"], group_by) for row in rev.rows],
                [(gettext("Net"), [max(row["net"], 0) for row in rev.rows])],
            )
        methods = tables["payment_methods"]
        out["payment_methods"] = bar_chart(
            gettext("Payment methods"),
            [f"{row['method']} {row['currency']}" for row in methods.rows],
            [(gettext("Bookings"), column(methods, "bookings"))],
        )
    return out


def csv_download(scope: ReportScope, name: str, filename_prefix: str) -> Response:
    """The table `name` (or every appointment, "appointments") as CSV, streamed: the rows
    are produced one by one from a server-side cursor and written a line at a time."""
    if name == DETAIL:
        header = [label for _, label in APPOINTMENT_COLUMNS]
        keys = [key for key, _ in APPOINTMENT_COLUMNS]
        rows = appointment_rows(scope)
    elif name in table_names(scope):
        table = build_table(scope, name)
        header = [label for _, label in table.columns]
        keys = table.column_keys()
        rows = iter(table.rows)
    else:
        abort(404)
    filename = f"{filename_prefix}-{name}-{scope.start.isoformat()}-{scope.end.isoformat()}.csv"
    return Response(
        stream_with_context(csv_lines(header, keys, rows)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
