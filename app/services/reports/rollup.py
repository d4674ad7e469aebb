"""Which of a report's days come from the rollups, and reading them.

A report over every doctor, a clinic or a specialty reads, for each clinic, the days the
rollup holds and that nothing has touched since (`split`): the rows of `report_days`,
`report_money_days`, `report_doctor_days` and `report_lead_days` (the lead-time median's
histogram), a few per clinic and day instead of every visit, and for the complete ISO weeks
inside a rolled range the week rows of the last two (`by_weeks`: a 90-day table of doctors
reads about 13 rows per doctor, not 90). Every other day (today, the days not yet rolled, a
day whose visit, slot, payment, refund or review changed after the refresh, a clinic whose
zone or doctors changed) is counted live from the source tables, as before the rollups. The
two never overlap and both are exact, so a report is the same with or without rollups; one
doctor's reports are always live (their index already reads only that doctor's rows).

Why rollups refreshed by a job, and dirty marks written by triggers, rather than counters
kept by the services: a counter updated in each use case would add a statement (and a hot
row to lock) to every booking, and would be wrong the day one writer forgets it (a bulk
UPDATE that expires holds, a payment moved to a rescheduled visit, a cascade, psql). The
triggers (migration 0024) see every writer and write only for a row whose time is already
past, the only days a rollup can hold: a booking, a cancellation, a hold of a future visit
write nothing. `refresh` (services/reports/refresh.py) recounts the marked days and rolls the
days that have ended.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, union_all

from app.extensions import db
from app.models import (
    ReportDay,
    ReportDirty,
    ReportDoctorDay,
    ReportDoctorWeek,
    ReportLeadDay,
    ReportLeadWeek,
    ReportMoneyDay,
    ReportRollupClinic,
)
from app.models.clinics import Clinic, Doctor, doctor_specialties
from app.models.reports import ALL_DAYS, ALL_SPECIALTIES, NO_CLINIC
from app.models.users import User
from app.services.localtime import zone
from app.services.reports.filters import ReportScope


@dataclass(frozen=True)
class Span:
    """Local days first..last of the clinics `clinics`, all in zone `tz`. Live spans name
    clinics by id (None: doctors without a clinic); rolled spans by rollup key (0 for those)."""

    tz: str
    clinics: tuple[int | None, ...]
    first: date
    last: date


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _ranges(days: list[date]) -> tuple[tuple[date, date], ...]:
    """Sorted days as runs of consecutive days."""
    out: list[list[date]] = []
    for day in days:
        if out and day == out[-1][1] + timedelta(days=1):
            out[-1][1] = day
        else:
            out.append([day, day])
    return tuple((a, b) for a, b in out)


def local_days_of_utc_day(day: date, tz_name: str) -> tuple[date, date]:
    """The local days (first, last) that the UTC day `day` overlaps in a zone."""
    tz = zone(tz_name)
    start = datetime.combine(day, time.min, UTC)
    end = start + timedelta(days=1) - timedelta(microseconds=1)
    return start.astimezone(tz).date(), end.astimezone(tz).date()


def split(scope: ReportScope, zones: dict[str, list[int | None]]) -> tuple[list[Span], list[Span]]:
    """(live spans, rolled spans) that together cover the scope's days for every clinic of
    `zones` (queries.zones_in_scope), each day of a clinic in exactly one."""
    whole = [Span(tz, tuple(ids), scope.start, scope.end) for tz, ids in zones.items()]
    if scope.doctor_id is not None or not zones:
        return whole, []
    clinics = {
        (i if i is not None else NO_CLINIC): (tz, i) for tz, ids in zones.items() for i in ids
    }
    states = {
        row.clinic_id: row
        for row in db.session.execute(
            select(
                ReportRollupClinic.clinic_id,
                ReportRollupClinic.timezone,
                ReportRollupClinic.rolled_through,
            ).where(ReportRollupClinic.clinic_id.in_(clinics))
        )
    }
    if not states:
        return whole, []
    dirty: dict[int, set[date]] = defaultdict(set)
    for clinic_id, day in db.session.execute(
        select(ReportDirty.clinic_id, ReportDirty.day).where(ReportDirty.clinic_id.in_(states))
    ):
        dirty[clinic_id].add(day)
    live: dict[tuple, list[int | None]] = defaultdict(list)
    rolled: dict[tuple, list[int]] = defaultdict(list)
    for key, (tz, clinic) in clinics.items():
        state = states.get(key)
        rolled_days: list[date] = []
        if state is not None and state.timezone == tz and ALL_DAYS not in dirty[key]:
            stale: set[date] = set()
            for utc_day in dirty[key]:
                stale.update(_days(*local_days_of_utc_day(utc_day, tz)))
            through = min(scope.end, state.rolled_through)
            rolled_days = [d for d in _days(scope.start, through) if d not in stale]
        taken = set(rolled_days)
        live_days = [d for d in _days(scope.start, scope.end) if d not in taken]
        if live_days:
            live[(tz, _ranges(live_days))].append(clinic)
        if rolled_days:
            rolled[_ranges(rolled_days)].append(key)
    live_spans = [
        Span(tz, tuple(ids), a, b) for (tz, ranges), ids in live.items() for a, b in ranges
    ]
    rolled_spans = [
        Span("", tuple(keys), a, b) for ranges, keys in rolled.items() for a, b in ranges
    ]
    return live_spans, rolled_spans


# --- reading the rollups -------------------------------------------------------------------


def _on_spans(table, spans: list[Span]):
    per_span = [
        and_(table.clinic_id.in_(span.clinics), table.day.between(span.first, span.last))
        for span in spans
    ]
    return and_(
        table.day.between(min(s.first for s in spans), max(s.last for s in spans)),
        per_span[0] if len(per_span) == 1 else or_(*per_span),
    )


def _bucket(day: date, unit: str):
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return None  # "all"


def read_days(
    spans: list[Span], scope: ReportScope, columns: dict, unit: str
) -> dict[tuple, dict[str, float]]:
    """{(bucket,): {name: sum}} of `columns` ({name: SQL over ReportDay}) on rolled spans,
    by `unit` (day, week, month, hour or all), for the scope's specialty (or everyone)."""
    if not spans:
        return {}
    key = {"hour": ReportDay.hour, "all": None}.get(unit, ReportDay.day)
    stmt = select(
        *([key.label("k")] if key is not None else []),
        *(func.sum(expr).label(name) for name, expr in columns.items()),
    ).where(
        ReportDay.specialty_id == (scope.specialty_id or ALL_SPECIALTIES),
        _on_spans(ReportDay, spans),
    )
    if key is not None:
        stmt = stmt.group_by(key)
    totals: dict[tuple, dict[str, float]] = {}
    for row in db.session.execute(stmt):
        values = row._mapping
        if key is None and all(values[name] is None for name in columns):
            continue
        bucket = (
            int(values["k"])
            if unit == "hour"
            else _bucket(values["k"], unit)
            if key is not None
            else None
        )
        line = totals.setdefault((bucket,), defaultdict(float))
        for name in columns:
            line[name] += float(values[name] or 0)
    return totals


def read_money(
    spans: list[Span], scope: ReportScope, kind: str, unit: str, *, by_method: bool = False
) -> dict[tuple, dict[str, float]]:
    """{(bucket, [method,] currency): {"n", "amount"}} of one kind of ReportMoneyDay."""
    if not spans:
        return {}
    t = ReportMoneyDay
    keys = ([t.day] if unit != "all" else []) + ([t.method] if by_method else []) + [t.currency]
    stmt = (
        select(*keys, func.sum(t.n).label("n"), func.sum(t.amount).label("amount"))
        .where(
            t.specialty_id == (scope.specialty_id or ALL_SPECIALTIES),
            t.kind == kind,
            _on_spans(t, spans),
        )
        .group_by(*keys)
    )
    totals: dict[tuple, dict[str, float]] = {}
    for row in db.session.execute(stmt):
        values = tuple(row)
        rest = values[: len(keys)]
        key = (_bucket(rest[0], unit), *rest[1:]) if unit != "all" else (None, *rest)
        line = totals.setdefault(key, defaultdict(float))
        line["n"] += float(row.n or 0)
        line["amount"] += float(row.amount or 0)
    return totals


def by_weeks(spans: list[Span]) -> tuple[list[Span], list[Span]]:
    """(day spans, week spans) covering the rolled spans: each span's complete ISO weeks
    as a span of their Mondays (the `day` of the week tables), its other days as days. A
    week inside a rolled span has its seven days rolled and clean, so its week row (written
    by `refresh` with its days) is their sum."""
    days: list[Span] = []
    weeks: list[Span] = []
    for span in spans:
        monday = span.first + timedelta(days=(7 - span.first.weekday()) % 7)
        last_monday = span.last - timedelta(days=span.last.weekday())
        if last_monday + timedelta(days=6) > span.last:
            last_monday -= timedelta(days=7)
        if last_monday < monday:
            days.append(span)
            continue
        weeks.append(Span(span.tz, span.clinics, monday, last_monday))
        if span.first < monday:
            days.append(Span(span.tz, span.clinics, span.first, monday - timedelta(days=1)))
        if last_monday + timedelta(days=6) < span.last:
            days.append(Span(span.tz, span.clinics, last_monday + timedelta(days=7), span.last))
    return days, weeks


def read_lead(spans: list[Span], scope: ReportScope) -> dict[int, float]:
    """{lead bucket: visits} of the median's histogram on rolled spans."""
    counts: dict[int, float] = defaultdict(float)
    specialty = scope.specialty_id or ALL_SPECIALTIES
    for table, part in zip((ReportLeadDay, ReportLeadWeek), by_weeks(spans), strict=True):
        if not part:
            continue
        stmt = (
            select(table.bucket, func.sum(table.n))
            .where(table.specialty_id == specialty, _on_spans(table, part))
            .group_by(table.bucket)
        )
        for bucket, n in db.session.execute(stmt):
            counts[int(bucket)] += float(n or 0)
    return counts


def read_doctors(
    spans: list[Span], scope: ReportScope, statuses: tuple[str, ...]
) -> dict[tuple, dict[str, float]]:
    """{(None, doctor id, name, clinic name): {status: count}} on rolled spans: their
    complete weeks from the week rows, the days at their edges from the day rows."""
    if not spans:
        return {}
    parts = []
    for t, part in zip((ReportDoctorDay, ReportDoctorWeek), by_weeks(spans), strict=True):
        if not part:
            continue
        stmt = select(t.doctor_id, *(getattr(t, s).label(s) for s in statuses)).where(
            _on_spans(t, part)
        )
        if scope.specialty_id is not None:
            stmt = stmt.where(
                t.doctor_id.in_(
                    select(doctor_specialties.c.doctor_id).where(
                        doctor_specialties.c.specialty_id == scope.specialty_id
                    )
                )
            )
        parts.append(stmt)
    rows = parts[0] if len(parts) == 1 else union_all(*parts)
    rows = rows.subquery()
    inner = (
        select(rows.c.doctor_id, *(func.sum(rows.c[s]).label(s) for s in statuses))
        .group_by(rows.c.doctor_id)
        .subquery()
    )
    stmt = (
        select(
            inner,
            User.name.label("doctor_name"),
            func.coalesce(Clinic.name, "").label("clinic_name"),
        )
        .join(Doctor, Doctor.id == inner.c.doctor_id)
        .join(User, User.id == Doctor.user_id)
        .outerjoin(Clinic, Clinic.id == Doctor.clinic_id)
    )
    totals: dict[tuple, dict[str, float]] = {}
    for row in db.session.execute(stmt):
        values = row._mapping
        line = totals.setdefault(
            (None, values["doctor_id"], values["doctor_name"], values["clinic_name"]),
            defaultdict(float),
        )
        for status in statuses:
            line[status] += float(values[status] or 0)
    return totals


def merge(into: dict[tuple, dict[str, float]], more: dict[tuple, dict[str, float]]) -> dict:
    """Add `more`'s totals into `into` (same keys: (bucket, *extras))."""
    for key, values in more.items():
        line = into.setdefault(key, defaultdict(float))
        for name, value in values.items():
            line[name] = line.get(name, 0) + value
    return into
