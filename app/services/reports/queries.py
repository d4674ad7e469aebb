"""The reports: bookings by status, utilisation, lead time, new and returning patients,
ratings, busiest hours, and for staff revenue, payment methods and doctors. Nothing here
writes.

Every figure is counted in SQL with GROUP BY. Periods (days, ISO weeks from Monday, months)
and hours are those of each clinic's own zone, by the visit's start (slots and appointments),
the review's date (ratings), the capture and the refund (revenue). A doctor without a clinic
counts in UTC.

PostgreSQL converts and truncates in the query (`date_trunc(unit, timezone(zone, at))`), and
filters by local day there; the UTC range it reads first (widened by the largest offsets) is
what lets it use the indexes on the times. SQLite has no time zones: there the query groups
by zone and UTC minute, and the rows (far fewer than the appointments) are turned local,
filtered and summed here. Every aggregate is a count or a sum, so both give the same totals.

A report over every doctor, a clinic or a specialty counts live only the days the rollups do
not hold untouched, and adds the rollup rows of the others (rollup.py says which and why);
one doctor's reports are always counted live.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from app.extensions import db
from app.i18n import N_
from app.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Doctor,
    Payment,
    PaymentMethod,
    Refund,
    ReportDay,
    Review,
    Slot,
    SlotStatus,
    User,
)
from app.models.clinics import doctor_specialties
from app.services.localtime import zone
from app.services.reports import rollup
from app.services.reports.filters import ReportScope
from app.services.reports.rollup import Span

S = AppointmentStatus
RESCHEDULED = "rescheduled"  # the cancellation_reason a reschedule leaves on the old visit
# States that took a slot once the hold was paid or the request sent: what "booked" counts
# (cancellations by reschedule aside: the new appointment counts instead).
TOOK_PLACE = (S.COMPLETED, S.NO_SHOW)
OCCUPIED = (S.PENDING_APPROVAL, S.CONFIRMED, S.COMPLETED, S.NO_SHOW)
LEAD_BUCKETS = (
    ("same_day", N_("Under a day"), 0, 86400),
    ("1_2_days", N_("1–2 days"), 86400, 3 * 86400),
    ("3_7_days", N_("3–7 days"), 3 * 86400, 8 * 86400),
    ("8_30_days", N_("8–30 days"), 8 * 86400, 31 * 86400),
    ("over_30_days", N_("Over 30 days"), 31 * 86400, None),
)

TZ = func.coalesce(Clinic.timezone, literal("UTC"))


@dataclass
class Table:
    """One report: what a chart draws, the page's table shows and the CSV holds."""

    name: str  # its slug, in CSV file names and URLs
    title: str
    columns: list[tuple[str, str]]  # (key, heading)
    rows: list[dict] = field(default_factory=list)
    note: str = ""

    def column_keys(self) -> list[str]:
        return [key for key, _ in self.columns]


# --- SQL building blocks -------------------------------------------------------------------


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _seconds(start, end):
    """The seconds between two timestamps, in SQL."""
    if _postgres():
        return extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _booked():
    """Booked: everything but abandoned or live holds and the old half of a reschedule."""
    return and_(
        Appointment.status.not_in((S.PENDING_PAYMENT, S.EXPIRED)),
        _not_rescheduled(),
    )


def _not_rescheduled():
    return or_(
        Appointment.status != S.CANCELLED,
        Appointment.cancellation_reason.is_(None),
        Appointment.cancellation_reason != RESCHEDULED,
    )


def _scoped(stmt, doctor_column, scope: ReportScope):
    """Restrict to the scope's doctors (doctor_column is the reading table's doctor_id)."""
    if scope.doctor_id is not None:
        stmt = stmt.where(doctor_column == scope.doctor_id)
    if scope.clinic_id is not None:
        stmt = stmt.where(Doctor.clinic_id == scope.clinic_id)
    if scope.specialty_id is not None:
        stmt = stmt.where(
            doctor_column.in_(
                select(doctor_specialties.c.doctor_id).where(
                    doctor_specialties.c.specialty_id == scope.specialty_id
                )
            )
        )
    return stmt


def _with_clinic(stmt, doctor_column):
    return stmt.join(Doctor, Doctor.id == doctor_column).outerjoin(
        Clinic, Clinic.id == Doctor.clinic_id
    )


@lru_cache(maxsize=64)
def _zone(name: str):
    return zone(name)


def _bucket(local: datetime, unit: str):
    if unit == "day":
        return local.date()
    if unit == "week":
        return local.date() - timedelta(days=local.weekday())
    if unit == "month":
        return local.date().replace(day=1)
    if unit == "hour":
        return local.hour
    if unit == "local_hour":  # the rollups' key: (local day, local hour)
        return (local.date(), local.hour)
    return None  # "all"


def zones_in_scope(scope: ReportScope) -> dict[str, list[int | None]]:
    """The time zones of the scope's doctors, each with its clinics' ids (None: doctors
    without a clinic, who count in UTC)."""
    stmt = _scoped(
        select(Doctor.clinic_id, TZ)
        .select_from(Doctor)
        .outerjoin(Clinic, Clinic.id == Doctor.clinic_id),
        Doctor.id,
        scope,
    ).distinct()
    zones: dict[str, list[int | None]] = {}
    for clinic_id, name in db.session.execute(stmt):
        zones.setdefault(name, []).append(clinic_id)
    return zones


def _of_clinics(ids: list[int | None]):
    known = [i for i in ids if i is not None]
    conditions = [Doctor.clinic_id.in_(known)] if known else []
    if None in ids:
        conditions.append(Doctor.clinic_id.is_(None))
    return conditions[0] if len(conditions) == 1 else or_(*conditions)


def scope_spans(scope: ReportScope, zones: dict[str, list[int | None]]) -> list[Span]:
    """The scope's days for every zone's clinics: what a report counts live without rollups."""
    return [Span(name, tuple(ids), scope.start, scope.end) for name, ids in zones.items()]


def _local_days(at, spans: list[Span]):
    """SQL: `at` falls on a span's local days in its clinic's zone, written as a UTC range
    per span's clinics (computed here), so that no row needs a time zone conversion to be
    kept; and the UTC range around them all, which is what the index on `at` reads."""
    bounds = []
    for span in spans:
        tz = _zone(span.tz)
        bounds.append(
            (
                span,
                datetime.combine(span.first, time.min, tz).astimezone(UTC),
                datetime.combine(span.last + timedelta(days=1), time.min, tz).astimezone(UTC),
            )
        )
    low = min(b[1] for b in bounds)
    high = max(b[2] for b in bounds)
    per_span = [and_(_of_clinics(list(span.clinics)), at >= lo, at < hi) for span, lo, hi in bounds]
    return and_(at >= low, at < high, per_span[0] if len(per_span) == 1 else or_(*per_span))


def _grouped(
    stmt,
    at,
    unit: str,
    spans: list[Span],
    aggregates: dict,
    extras: tuple = (),
    *,
    additive: bool = True,
) -> dict[tuple, dict[str, float]]:
    """Sum `aggregates` ({name: SQL aggregate}) over `stmt`'s rows whose time `at` falls on
    the spans' local days, by local `unit` (day, week, month, hour, local_hour or all) and
    `extras` (further grouping columns). Returns {(bucket, *extras): {name: total}}.

    On PostgreSQL, `additive` aggregates (counts and sums) are first grouped by zone and
    UTC quarter hour (every zone's offset is a multiple of 15 minutes, so a quarter hour
    lies within one local hour and day) and only those groups are made local: a time zone
    conversion per group, not per row. Others (a median) convert each row."""
    if not spans:
        return {}
    stmt = stmt.where(_local_days(at, spans))
    labelled = [expr.label(name) for name, expr in aggregates.items()]
    extra_cols = [col.label(f"x{i}") for i, col in enumerate(extras)]
    postgres = _postgres()
    if postgres and unit != "all" and additive:
        quarter = func.date_bin(
            literal_column("interval '15 minutes'"),
            at,
            literal_column("timestamptz '2000-01-01 00:00:00+00'"),
        )
        inner = (
            stmt.with_only_columns(
                Doctor.clinic_id.label("cid"), quarter.label("q"), *extra_cols, *labelled
            )
            .group_by(Doctor.clinic_id, quarter, *extra_cols)
            .subquery()
        )
        local = func.timezone(func.coalesce(Clinic.timezone, literal("UTC")), inner.c.q)
        key = _local_key(unit, local)
        outer_extras = [inner.c[f"x{i}"] for i in range(len(extras))]
        stmt = (
            select(
                key.label("k"),
                *outer_extras,
                *(func.sum(inner.c[name]).label(name) for name in aggregates),
            )
            .select_from(inner)
            .outerjoin(Clinic, Clinic.id == inner.c.cid)
            .group_by(key, *outer_extras)
        )
    elif postgres:
        local = func.timezone(TZ, at)
        keys = [] if unit == "all" else [_local_key(unit, local).label("k")]
        group = [*keys, *extra_cols]
        stmt = stmt.with_only_columns(*group, *labelled)
        if group:
            stmt = stmt.group_by(*group)
    else:
        group = [TZ.label("tz"), func.strftime("%Y-%m-%d %H:%M", at).label("k"), *extra_cols]
        stmt = stmt.with_only_columns(*group, *labelled).group_by(*group)
    totals: dict[tuple, dict[str, float]] = {}
    rows = db.session.execute(stmt.execution_options(yield_per=2000))
    try:
        _sum_rows(rows, totals, unit, spans, aggregates, len(extras), postgres)
    finally:
        rows.close()
    return totals


def _local_key(unit: str, local):
    if unit == "hour":
        return extract("hour", local)
    return func.date_trunc("hour" if unit == "local_hour" else unit, local)


def _sum_rows(rows, totals, unit, spans, aggregates, extras: int, postgres: bool) -> None:
    days: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for span in spans:
        days[span.tz].append((span.first, span.last))
    for row in rows:
        values = row._mapping
        if postgres:
            if unit == "hour":
                bucket = int(values["k"])
            elif unit == "all":
                bucket = None
            else:
                bucket = _bucket(values["k"], unit)
        else:
            moment = datetime.strptime(values["k"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            local_time = moment.astimezone(_zone(values["tz"])).replace(tzinfo=None)
            if not any(a <= local_time.date() <= b for a, b in days[values["tz"]]):
                continue
            bucket = _bucket(local_time, unit)
        key = (bucket, *(values[f"x{i}"] for i in range(extras)))
        line = totals.setdefault(key, defaultdict(float))
        for name in aggregates:
            line[name] += float(values[name] or 0)


def _split(scope: ReportScope) -> tuple[list[Span], list[Span]]:
    """(live spans, rolled spans) of the scope (services/reports/rollup.py)."""
    return rollup.split(scope, zones_in_scope(scope))


def _appointments(scope: ReportScope):
    return _scoped(
        _with_clinic(select(Appointment.id), Appointment.doctor_id), Appointment.doctor_id, scope
    )


def periods(scope: ReportScope) -> list[date]:
    """Every period of the scope, first to last (so charts show empty ones too)."""
    first = _bucket(datetime.combine(scope.start, time.min), scope.group_by)
    out, current = [], first
    while current <= scope.end:
        out.append(current)
        if scope.group_by == "day":
            current += timedelta(days=1)
        elif scope.group_by == "week":
            current += timedelta(days=7)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


# --- The reports ---------------------------------------------------------------------------

BOOKING_COLUMNS = [
    ("period", N_("Period")),
    ("booked", N_("Booked")),
    ("pending_approval", N_("Awaiting approval")),
    ("confirmed", N_("Confirmed")),
    ("completed", N_("Completed")),
    ("no_show", N_("No-show")),
    ("cancelled", N_("Cancelled")),
    ("rejected", N_("Declined")),
    ("rescheduled", N_("Moved away")),
    ("expired", N_("Abandoned holds")),
    ("cancellation_rate", N_("Cancellation rate")),
    ("no_show_rate", N_("No-show rate")),
]
STATUS_COUNTS = {
    "pending_approval": Appointment.status == S.PENDING_APPROVAL,
    "confirmed": Appointment.status == S.CONFIRMED,
    "completed": Appointment.status == S.COMPLETED,
    "no_show": Appointment.status == S.NO_SHOW,
    "cancelled": and_(Appointment.status == S.CANCELLED, _not_rescheduled()),
    "rejected": Appointment.status == S.REJECTED,
    "rescheduled": and_(Appointment.status == S.CANCELLED, ~_not_rescheduled()),
    "expired": Appointment.status == S.EXPIRED,
}


# What "booked" adds up (every status count but moved-away visits and abandoned holds).
BOOKED_STATUSES = tuple(k for k in STATUS_COUNTS if k not in ("rescheduled", "expired"))


def _booking_row(period, counts: dict) -> dict:
    row = {"period": period}
    row["booked"] = int(sum(counts.get(k, 0) for k in BOOKED_STATUSES))
    row.update({k: int(counts.get(k, 0)) for k in STATUS_COUNTS})
    row["cancellation_rate"] = _rate(row["cancelled"], row["booked"])
    row["no_show_rate"] = _rate(row["no_show"], row["no_show"] + row["completed"])
    return row


def bookings(scope: ReportScope) -> Table:
    """Bookings by status per period. Cancellation rate: cancelled ÷ booked; no-show rate:
    no-shows ÷ visits that were due (completed + no-show)."""
    live, rolled = _split(scope)
    aggregates = {name: _count(cond) for name, cond in STATUS_COUNTS.items()}
    totals = _grouped(_appointments(scope), Appointment.starts_at, scope.group_by, live, aggregates)
    columns = {name: getattr(ReportDay, name) for name in STATUS_COUNTS}
    rollup.merge(totals, rollup.read_days(rolled, scope, columns, scope.group_by))
    rows = [_booking_row(p, totals.get((p,), {})) for p in periods(scope)]
    return Table(
        "bookings",
        N_("Bookings by status"),
        BOOKING_COLUMNS,
        rows,
        N_(
            "By the visit's date. Booked leaves out holds never paid and the old time of a moved"
            " visit. Cancellation rate: cancelled ÷ booked; no-show rate: no-shows ÷ visits due."
        ),
    )


def booking_totals(table: Table) -> dict:
    """The whole range's row of a bookings table."""
    counts = {k: sum(r[k] for r in table.rows) for k in STATUS_COUNTS}
    return _booking_row("total", counts)


def utilisation(scope: ReportScope) -> Table:
    """Booked slot time ÷ offered slot time per period (open slots; booked: awaiting
    approval, confirmed, completed or no-show)."""
    live, rolled = _split(scope)
    offered = _grouped(
        _open_slots(scope),
        Slot.start_at,
        scope.group_by,
        live,
        {"seconds": func.coalesce(func.sum(_seconds(Slot.start_at, Slot.end_at)), 0)},
    )
    booked = _grouped(
        _appointments(scope).where(Appointment.status.in_(OCCUPIED)),
        Appointment.starts_at,
        scope.group_by,
        live,
        {"seconds": func.coalesce(func.sum(_occupied_seconds()), 0)},
    )
    read = rollup.read_days
    rollup.merge(
        offered, read(rolled, scope, {"seconds": ReportDay.offered_seconds}, scope.group_by)
    )
    rollup.merge(
        booked, read(rolled, scope, {"seconds": ReportDay.occupied_seconds}, scope.group_by)
    )
    rows = []
    for p in periods(scope):
        offered_min = round(offered.get((p,), {}).get("seconds", 0) / 60)
        booked_min = round(booked.get((p,), {}).get("seconds", 0) / 60)
        rows.append(
            {
                "period": p,
                "offered_minutes": offered_min,
                "booked_minutes": booked_min,
                "utilisation": _rate(booked_min, offered_min),
            }
        )
    return Table(
        "utilisation",
        N_("Utilisation"),
        [
            ("period", N_("Period")),
            ("offered_minutes", N_("Offered (minutes)")),
            ("booked_minutes", N_("Booked (minutes)")),
            ("utilisation", N_("Utilisation")),
        ],
        rows,
        N_("Booked slot time ÷ open slot time, by the slot's date."),
    )


def _open_slots(scope: ReportScope):
    return _scoped(_with_clinic(select(Slot.id), Slot.doctor_id), Slot.doctor_id, scope).where(
        Slot.status == SlotStatus.OPEN
    )


def _occupied_seconds():
    return _seconds(Appointment.starts_at, Appointment.ends_at)


def _lead_seconds():
    return _seconds(Appointment.created_at, Appointment.starts_at)


def lead_band():
    """SQL: the key of the LEAD_BUCKETS band a visit's lead time falls in."""
    lead = _lead_seconds()
    return case(
        *(
            (lead < high, key) if high is not None else (lead >= low, key)
            for key, _label, low, high in LEAD_BUCKETS
        ),
        else_="same_day",
    )


def lead_time(scope: ReportScope, *, median: bool = True) -> tuple[Table, Table, dict]:
    """How long before the visit it was booked: per period (count and average), a
    distribution in bands, and the range's median and average, in hours. One grouped query
    (period x band) gives the first two; the median (left out with median=False) a
    histogram of lead times (`_median_hours`: to the hour under two days, to the day beyond)."""
    lead = _lead_seconds()
    base = _appointments(scope).where(_booked())
    live, rolled = _split(scope)
    grouped = _grouped(
        base,
        Appointment.starts_at,
        scope.group_by,
        live,
        {"n": func.count(), "total": func.coalesce(func.sum(lead), 0)},
        (lead_band(),),
    )
    columns = {}
    for key, _label, _low, _high in LEAD_BUCKETS:
        columns[f"{key}_n"] = getattr(ReportDay, f"lead_{key}_n")
        columns[f"{key}_s"] = getattr(ReportDay, f"lead_{key}_s")
    for (period,), values in rollup.read_days(rolled, scope, columns, scope.group_by).items():
        for key, _label, _low, _high in LEAD_BUCKETS:
            if values[f"{key}_n"]:
                rollup.merge(
                    grouped,
                    {(period, key): {"n": values[f"{key}_n"], "total": values[f"{key}_s"]}},
                )
    per_period: dict = defaultdict(lambda: [0, 0.0])
    per_band: dict = defaultdict(int)
    for (period, band_key), values in grouped.items():
        per_period[period][0] += int(values["n"])
        per_period[period][1] += values["total"]
        per_band[band_key] += int(values["n"])
    rows = []
    for p in periods(scope):
        n, total = per_period.get(p, (0, 0.0))
        rows.append(
            {
                "period": p,
                "bookings": n,
                "average_hours": round(total / n / 3600, 1) if n else None,
            }
        )
    distribution = [
        {"band": label, "bookings": per_band.get(key, 0)}
        for key, label, _low, _high in LEAD_BUCKETS
    ]
    n = sum(v[0] for v in per_period.values())
    total = sum(v[1] for v in per_period.values())
    summary = {
        "bookings": n,
        "average_hours": round(total / n / 3600, 1) if n else None,
        "median_hours": _median_hours(base, scope, live, rolled) if n and median else None,
    }
    by_period = Table(
        "lead_time",
        N_("Lead time from booking to visit"),
        [
            ("period", N_("Period")),
            ("bookings", N_("Bookings")),
            ("average_hours", N_("Average (hours)")),
        ],
        rows,
        N_("Hours from booking to the visit's start, by the visit's date."),
    )
    spread = Table(
        "lead_time_bands",
        N_("How far ahead patients book"),
        [("band", N_("Booked ahead")), ("bookings", N_("Bookings"))],
        distribution,
    )
    return by_period, spread, summary


# The median's histogram: lead times in buckets with exact edges, so that the rolled days'
# counts (report_lead_days) and the live days' add up to the same median. Buckets 0..47: the
# whole hours of the first two days; 48..411: the whole days 2..365; 412: a year or more.
HOUR_BUCKETS = 48
LAST_DAY_BUCKET = 365
YEAR_BUCKET = HOUR_BUCKETS - 2 + LAST_DAY_BUCKET + 1


def lead_bucket():
    """SQL: the median histogram's bucket of a visit's lead time (rounded to the second)."""
    seconds = func.round(_lead_seconds())

    def whole(value):  # floor of a non-negative quotient, as an integer
        if _postgres():
            return cast(func.floor(value), Integer)
        return cast(value, Integer)

    return case(
        (seconds < 3600, 0),
        (seconds < HOUR_BUCKETS * 3600, whole(seconds / 3600)),
        (seconds < (LAST_DAY_BUCKET + 1) * 86400, HOUR_BUCKETS - 2 + whole(seconds / 86400)),
        else_=YEAR_BUCKET,
    )


def bucket_start_hours(bucket: int) -> int:
    """The lower edge, in hours, of a lead_bucket."""
    if bucket < HOUR_BUCKETS:
        return bucket
    return (bucket - HOUR_BUCKETS + 2) * 24


def _median_hours(base, scope: ReportScope, live: list[Span], rolled: list[Span]) -> float | None:
    """The lower median of the range's lead times, as the start of its histogram bucket
    (to the hour under two days, to the day up to a year): counted from the live days'
    visits and the rolled days' histograms, which give the same counts."""
    counts: dict[int, float] = defaultdict(float)
    found = _grouped(
        base, Appointment.starts_at, "all", live, {"n": func.count()}, (lead_bucket(),)
    )
    for (_all, bucket), values in found.items():
        counts[int(bucket)] += values["n"]
    for bucket, n in rollup.read_lead(rolled, scope).items():
        counts[bucket] += n
    total = sum(counts.values())
    seen = 0.0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if total and seen * 2 >= total:
            return float(bucket_start_hours(bucket))
    return None


def first_visit():
    """SQL: no earlier completed visit of the same patient with the same doctor."""
    earlier = aliased(Appointment)
    return ~exists().where(
        earlier.patient_id == Appointment.patient_id,
        earlier.doctor_id == Appointment.doctor_id,
        earlier.status == S.COMPLETED,
        earlier.starts_at < Appointment.starts_at,
    )


def patients(scope: ReportScope) -> Table:
    """Completed visits of new patients (their first completed visit with that doctor) and
    of returning ones, per period."""
    live, rolled = _split(scope)
    totals = _grouped(
        _appointments(scope).where(Appointment.status == S.COMPLETED),
        Appointment.starts_at,
        scope.group_by,
        live,
        {"new": _count(first_visit()), "visits": func.count()},
    )
    columns = {"new": ReportDay.new_patients, "visits": ReportDay.completed}
    rollup.merge(totals, rollup.read_days(rolled, scope, columns, scope.group_by))
    rows = []
    for p in periods(scope):
        values = totals.get((p,), {})
        new, visits = int(values.get("new", 0)), int(values.get("visits", 0))
        rows.append({"period": p, "new": new, "returning": visits - new})
    return Table(
        "patients",
        N_("New and returning patients"),
        [
            ("period", N_("Period")),
            ("new", N_("New patients")),
            ("returning", N_("Returning patients")),
        ],
        rows,
        N_("Completed visits: a patient's first with the doctor is new, later ones returning."),
    )


def _visible_reviews(scope: ReportScope):
    return _scoped(
        _with_clinic(select(Review.id), Review.doctor_id), Review.doctor_id, scope
    ).where(Review.hidden_at.is_(None))


def ratings(scope: ReportScope) -> Table:
    """Visible reviews per period (by the review's date): count and average rating."""
    live, rolled = _split(scope)
    totals = _grouped(
        _visible_reviews(scope),
        Review.created_at,
        scope.group_by,
        live,
        {"n": func.count(), "total": func.coalesce(func.sum(Review.rating), 0)},
    )
    columns = {"n": ReportDay.reviews, "total": ReportDay.rating_sum}
    rollup.merge(totals, rollup.read_days(rolled, scope, columns, scope.group_by))
    rows = []
    for p in periods(scope):
        values = totals.get((p,), {})
        n = int(values.get("n", 0))
        rows.append(
            {"period": p, "reviews": n, "average": round(values["total"] / n, 2) if n else None}
        )
    return Table(
        "ratings",
        N_("Rating over time"),
        [("period", N_("Period")), ("reviews", N_("Reviews")), ("average", N_("Average rating"))],
        rows,
        N_("Visible reviews only (hidden ones are left out), by the review's date."),
    )


def busiest_hours(scope: ReportScope) -> Table:
    """Booked visits by the hour they start, in the clinic's local time."""
    live, rolled = _split(scope)
    totals = _grouped(
        _appointments(scope).where(_booked()),
        Appointment.starts_at,
        "hour",
        live,
        {"n": func.count()},
    )
    booked = sum(getattr(ReportDay, k) for k in BOOKED_STATUSES)
    rollup.merge(totals, rollup.read_days(rolled, scope, {"n": booked}, "hour"))
    rows = [
        {"hour": f"{h:02d}:00", "bookings": int(totals.get((h,), {}).get("n", 0))}
        for h in range(24)
    ]
    return Table(
        "busiest_hours",
        N_("Busiest hours"),
        [("hour", N_("Hour (clinic time)")), ("bookings", N_("Bookings"))],
        rows,
        N_("Booked visits by the local hour they start at."),
    )


def captures(scope: ReportScope):
    """(statement, currency) of the captured card payments in scope."""
    # The doctor of each payment and refund through a subquery on the appointment's primary
    # key: a join would let the planner hash every appointment to match a month of payments.
    payment_doctor = (
        select(Appointment.doctor_id)
        .where(Appointment.id == Payment.appointment_id)
        .scalar_subquery()
    )
    stmt = _scoped(_with_clinic(select(Payment.id), payment_doctor), payment_doctor, scope).where(
        Payment.captured_at.is_not(None)
    )
    return stmt, Payment.currency


def refunds(scope: ReportScope):
    """(statement, currency) of the refunds in scope (the currency of their payment)."""
    refunded_payment = aliased(Payment)
    refund_doctor = (
        select(Appointment.doctor_id)
        .join(refunded_payment, refunded_payment.appointment_id == Appointment.id)
        .where(refunded_payment.id == Refund.payment_id)
        .scalar_subquery()
    )
    refund_currency = (
        select(refunded_payment.currency)
        .where(refunded_payment.id == Refund.payment_id)
        .scalar_subquery()
    )
    stmt = _scoped(_with_clinic(select(Refund.id), refund_doctor), refund_doctor, scope)
    return stmt, refund_currency


CAPTURED = {"amount": func.coalesce(func.sum(Payment.amount_captured), 0), "n": func.count()}
REFUNDED = {"amount": func.coalesce(func.sum(Refund.amount), 0), "n": func.count()}


def revenue(scope: ReportScope) -> Table:
    """Money through Carebook per period and currency: captured (by the capture's date)
    less refunded (by the refund's date)."""
    live, rolled = _split(scope)
    payments, currency = captures(scope)
    captured = _grouped(payments, Payment.captured_at, scope.group_by, live, CAPTURED, (currency,))
    rollup.merge(captured, rollup.read_money(rolled, scope, "captured", scope.group_by))
    refund_rows, currency = refunds(scope)
    refunded = _grouped(refund_rows, Refund.created_at, scope.group_by, live, REFUNDED, (currency,))
    rollup.merge(refunded, rollup.read_money(rolled, scope, "refunded", scope.group_by))
    keys = sorted(set(captured) | set(refunded), key=lambda k: (k[0], k[1]))
    rows = []
    for key in keys:
        got = int(captured.get(key, {}).get("amount", 0))
        back = int(refunded.get(key, {}).get("amount", 0))
        rows.append(
            {
                "period": key[0],
                "currency": key[1],
                "payments": int(captured.get(key, {}).get("n", 0)),
                "captured": got,
                "refunds": int(refunded.get(key, {}).get("n", 0)),
                "refunded": back,
                "net": got - back,
            }
        )
    return Table(
        "revenue",
        N_("Revenue"),
        [
            ("period", N_("Period")),
            ("currency", N_("Currency")),
            ("payments", N_("Payments")),
            ("captured", N_("Captured")),
            ("refunds", N_("Refunds")),
            ("refunded", N_("Refunded")),
            ("net", N_("Net")),
        ],
        rows,
        N_(
            "Card money through Carebook, in minor units: captured on the capture's date, refunds"
            " on the refund's; net is captured less refunded."
        ),
    )


def revenue_totals(table: Table) -> list[dict]:
    """Net per currency over the whole range."""
    by_currency: dict[str, dict] = {}
    for row in table.rows:
        line = by_currency.setdefault(
            row["currency"], {"currency": row["currency"], "captured": 0, "refunded": 0}
        )
        line["captured"] += row["captured"]
        line["refunded"] += row["refunded"]
    for line in by_currency.values():
        line["net"] = line["captured"] - line["refunded"]
    return [by_currency[c] for c in sorted(by_currency)]


def payment_methods(scope: ReportScope) -> Table:
    """Booked visits by how they are paid (card or at the clinic), per currency."""
    live, rolled = _split(scope)
    totals = _grouped(
        _appointments(scope).where(_booked(), Appointment.status.not_in((S.REJECTED,))),
        Appointment.starts_at,
        "all",
        live,
        {"n": func.count(), "fees": func.coalesce(func.sum(Appointment.fee_amount), 0)},
        (Appointment.payment_method, Appointment.fee_currency),
    )
    for key, values in rollup.read_money(rolled, scope, "booked", "all", by_method=True).items():
        # The live key holds the PaymentMethod member, the rollup its value: one key.
        key = (None, PaymentMethod(key[1]), key[2])
        rollup.merge(totals, {key: {"n": values["n"], "fees": values["amount"]}})
    all_bookings = sum(v["n"] for v in totals.values())
    rows = [
        {
            "method": str(getattr(key[1], "value", key[1])),
            "currency": key[2],
            "bookings": int(values["n"]),
            "share": _rate(values["n"], all_bookings),
            "fees": int(values["fees"]),
        }
        for key, values in sorted(
            totals.items(), key=lambda kv: (-kv[1]["n"], str(kv[0][1]), kv[0][2])
        )
    ]
    return Table(
        "payment_methods",
        N_("Payment methods"),
        [
            ("method", N_("Method")),
            ("currency", N_("Currency")),
            ("bookings", N_("Bookings")),
            ("share", N_("Share")),
            ("fees", N_("Fees booked")),
        ],
        rows,
        N_("Booked visits (declined requests aside) by payment method; fees in minor units."),
    )


def by_doctor(scope: ReportScope) -> Table:
    """Bookings by status for each doctor in scope, busiest first."""
    live, rolled = _split(scope)
    aggregates = {name: _count(cond) for name, cond in STATUS_COUNTS.items()}
    stmt = _appointments(scope).join(User, User.id == Doctor.user_id)
    totals = _grouped(
        stmt,
        Appointment.starts_at,
        "all",
        live,
        aggregates,
        (Doctor.id, User.name, func.coalesce(Clinic.name, literal(""))),
    )
    rollup.merge(totals, rollup.read_doctors(rolled, scope, tuple(STATUS_COUNTS)))
    rows = []
    for key, counts in totals.items():
        row = _booking_row(None, counts)
        del row["period"]
        rows.append({"doctor_id": key[1], "doctor": key[2], "clinic": key[3], **row})
    rows.sort(key=lambda r: (-r["booked"], r["doctor"]))
    columns = [("doctor_id", N_("Doctor id")), ("doctor", N_("Doctor")), ("clinic", N_("Clinic"))]
    columns += [c for c in BOOKING_COLUMNS if c[0] != "period"]
    return Table("doctors", N_("Doctors"), columns, rows, N_("Bookings by status for each doctor."))


APPOINTMENT_COLUMNS = [
    ("id", N_("Appointment")),
    ("starts_local", N_("Visit (clinic time)")),
    ("timezone", N_("Time zone")),
    ("clinic", N_("Clinic")),
    ("doctor", N_("Doctor")),
    ("status", N_("Status")),
    ("cancellation_reason", N_("Cancellation reason")),
    ("payment_method", N_("Payment")),
    ("fee_amount", N_("Fee")),
    ("currency", N_("Currency")),
    ("booked_at", N_("Booked at (UTC)")),
]


def appointment_rows(scope: ReportScope) -> Iterator[dict]:
    """Every appointment of the scope, by visit time: a generator over a server-side
    cursor (yield_per), so the CSV of a million rows never sits in memory."""
    zones = zones_in_scope(scope)
    if not zones:
        return
    stmt = (
        _scoped(
            _with_clinic(
                select(
                    Appointment.id,
                    Appointment.starts_at,
                    TZ.label("tz"),
                    func.coalesce(Clinic.name, literal("")).label("clinic"),
                    User.name.label("doctor"),
                    Appointment.status,
                    Appointment.cancellation_reason,
                    Appointment.payment_method,
                    Appointment.fee_amount,
                    Appointment.fee_currency,
                    Appointment.created_at,
                ),
                Appointment.doctor_id,
            ).join(User, User.id == Doctor.user_id),
            Appointment.doctor_id,
            scope,
        )
        .where(_local_days(Appointment.starts_at, scope_spans(scope, zones)))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    rows = db.session.execute(stmt.execution_options(yield_per=1000))
    try:
        yield from _appointment_dicts(rows, scope)
    finally:
        rows.close()


def _appointment_dicts(rows, scope: ReportScope) -> Iterator[dict]:
    for row in rows:
        local = row.starts_at.astimezone(_zone(row.tz))
        if not scope.start <= local.date() <= scope.end:
            continue
        yield {
            "id": row.id,
            "starts_local": local.strftime("%Y-%m-%d %H:%M"),
            "timezone": row.tz,
            "clinic": row.clinic,
            "doctor": row.doctor,
            "status": str(getattr(row.status, "value", row.status)),
            "cancellation_reason": row.cancellation_reason or "",
            "payment_method": str(getattr(row.payment_method, "value", row.payment_method)),
            "fee_amount": row.fee_amount,
            "currency": row.fee_currency,
            "booked_at": row.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
