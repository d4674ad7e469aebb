"""Refreshing the report rollups: roll the local days that have ended, recount the days the
triggers marked dirty (services/reports/rollup.py says why it is done this way).

Run by the periodic schedule (workers/jobs.refresh_reports, the embedded schedule) and by
`flask refresh-reports`. Safe side by side and at any time: on PostgreSQL it runs in one
REPEATABLE READ transaction that first locks report_dirty (EXCLUSIVE): a transaction that
marked a day has committed before the recount reads, and one that marks later waits and
leaves its mark for the next refresh. SQLite serialises writers itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Date, and_, case, cast, delete, func, insert, select, text

from app.extensions import db
from app.models import (
    Appointment,
    Clinic,
    Doctor,
    Payment,
    Refund,
    ReportDay,
    ReportDirty,
    ReportDoctorDay,
    ReportDoctorWeek,
    ReportLeadDay,
    ReportLeadWeek,
    ReportMoneyDay,
    ReportRollupClinic,
    Review,
    Slot,
)
from app.models.clinics import doctor_specialties
from app.models.reports import ALL_DAYS, ALL_SPECIALTIES, LEAD_BANDS, NO_CLINIC, STATUS_COLUMNS
from app.models.types import utcnow
from app.services.localtime import zone
from app.services.reports import queries
from app.services.reports.filters import FIRST_DAY, ReportScope
from app.services.reports.rollup import Span, local_days_of_utc_day
from app.services.transaction import transaction

# A day is rolled this long after it ends in its zone. The triggers mark a change of a row
# whose time is before their transaction's start, so a writing transaction that began before
# a day ended and commits after the refresh read it is marked as long as it lasted less
# than this.
SETTLE = timedelta(hours=2)
EVERYONE = ReportScope(start=FIRST_DAY, end=FIRST_DAY)  # no doctor, clinic or specialty filter
DAILY = (ReportDay, ReportMoneyDay, ReportDoctorDay, ReportLeadDay)
ROLLED = (*DAILY, ReportDoctorWeek, ReportLeadWeek)


@dataclass
class RefreshReport:
    clinics: int = 0
    days: int = 0  # clinic-days recounted
    rows: int = 0  # rollup rows written


def _clinic_key():
    return func.coalesce(Doctor.clinic_id, NO_CLINIC)


def _day_families(by_specialty: bool):
    """(statement, time, aggregates) whose sums are ReportDay's columns."""
    s = queries.S
    booked = queries._booked()
    lead = queries._lead_seconds()
    band = queries.lead_band()
    visits = {name: queries._count(cond) for name, cond in queries.STATUS_COUNTS.items()}
    visits["occupied_seconds"] = func.coalesce(
        func.sum(
            case((Appointment.status.in_(queries.OCCUPIED), queries._occupied_seconds()), else_=0)
        ),
        0,
    )
    visits["new_patients"] = queries._count(
        and_(Appointment.status == s.COMPLETED, queries.first_visit())
    )
    for key in LEAD_BANDS:
        visits[f"lead_{key}_n"] = queries._count(and_(booked, band == key))
        visits[f"lead_{key}_s"] = func.coalesce(
            func.sum(case((and_(booked, band == key), lead), else_=0)), 0
        )
    slots = {
        "offered_seconds": func.coalesce(func.sum(queries._seconds(Slot.start_at, Slot.end_at)), 0)
    }
    reviews = {"reviews": func.count(), "rating_sum": func.coalesce(func.sum(Review.rating), 0)}
    return [
        (queries._appointments(EVERYONE), Appointment.starts_at, visits),
        (queries._open_slots(EVERYONE), Slot.start_at, slots),
        (queries._visible_reviews(EVERYONE), Review.created_at, reviews),
    ]


def _with_specialty(stmt, by_specialty: bool):
    if not by_specialty:
        return stmt, ()
    joined = stmt.join(doctor_specialties, doctor_specialties.c.doctor_id == Doctor.id)
    return joined, (doctor_specialties.c.specialty_id,)


def _count_days(spans: list[Span]) -> list[dict]:
    rows: dict[tuple, dict] = {}
    for by_specialty in (False, True):
        for stmt, at, aggregates in _day_families(by_specialty):
            stmt, specialty = _with_specialty(stmt, by_specialty)
            found = queries._grouped(
                stmt, at, "local_hour", spans, aggregates, (_clinic_key(), *specialty)
            )
            for key, values in found.items():
                (day, hour), clinic = key[0], key[1]
                spec = key[2] if by_specialty else ALL_SPECIALTIES
                row = rows.setdefault(
                    (spec, day, clinic, hour),
                    {"specialty_id": spec, "day": day, "clinic_id": clinic, "hour": hour},
                )
                for name, value in values.items():
                    row[name] = row.get(name, 0) + value
    out = []
    for row in rows.values():
        for column in ReportDay.__table__.columns:
            row.setdefault(column.name, 0)
        for name in (*STATUS_COLUMNS, "new_patients", "reviews", "rating_sum"):
            row[name] = int(row[name])
        for key in LEAD_BANDS:
            row[f"lead_{key}_n"] = int(row[f"lead_{key}_n"])
        out.append(row)
    return out


def _count_money(spans: list[Span]) -> list[dict]:
    rows: list[dict] = []
    payments, payment_currency = queries.captures(EVERYONE)
    refunds, refund_currency = queries.refunds(EVERYONE)
    s = queries.S
    booked = queries._appointments(EVERYONE).where(
        queries._booked(), Appointment.status.not_in((s.REJECTED,))
    )
    fees = {"n": func.count(), "amount": func.coalesce(func.sum(Appointment.fee_amount), 0)}
    families = [
        ("captured", payments, Payment.captured_at, queries.CAPTURED, (payment_currency,)),
        ("refunded", refunds, Refund.created_at, queries.REFUNDED, (refund_currency,)),
        (
            "booked",
            booked,
            Appointment.starts_at,
            fees,
            (Appointment.payment_method, Appointment.fee_currency),
        ),
    ]
    for by_specialty in (False, True):
        for kind, stmt, at, aggregates, extras in families:
            stmt, specialty = _with_specialty(stmt, by_specialty)
            found = queries._grouped(
                stmt, at, "day", spans, aggregates, (_clinic_key(), *specialty, *extras)
            )
            for key, values in found.items():
                day, clinic, rest = key[0], key[1], key[2:]
                spec = ALL_SPECIALTIES
                if by_specialty:
                    spec, rest = rest[0], rest[1:]
                method = str(getattr(rest[0], "value", rest[0])) if kind == "booked" else ""
                rows.append(
                    {
                        "specialty_id": spec,
                        "day": day,
                        "clinic_id": clinic,
                        "kind": kind,
                        "method": method,
                        "currency": rest[-1],
                        "n": int(values["n"]),
                        "amount": int(values["amount"]),
                    }
                )
    return rows


def _count_doctors(spans: list[Span]) -> list[dict]:
    aggregates = {name: queries._count(cond) for name, cond in queries.STATUS_COUNTS.items()}
    found = queries._grouped(
        queries._appointments(EVERYONE),
        Appointment.starts_at,
        "day",
        spans,
        aggregates,
        (Doctor.id, _clinic_key()),
    )
    return [
        {
            "day": key[0],
            "doctor_id": key[1],
            "clinic_id": key[2],
            **{name: int(values[name]) for name in STATUS_COLUMNS},
        }
        for key, values in found.items()
    ]


def _count_lead(spans: list[Span]) -> list[dict]:
    """The median's histogram: booked visits per clinic, specialty, local day and bucket."""
    rows = []
    for by_specialty in (False, True):
        stmt, specialty = _with_specialty(
            queries._appointments(EVERYONE).where(queries._booked()), by_specialty
        )
        found = queries._grouped(
            stmt,
            Appointment.starts_at,
            "day",
            spans,
            {"n": func.count()},
            (_clinic_key(), queries.lead_bucket(), *specialty),
        )
        for key, values in found.items():
            rows.append(
                {
                    "specialty_id": key[3] if by_specialty else ALL_SPECIALTIES,
                    "day": key[0],
                    "clinic_id": key[1],
                    "bucket": int(key[2]),
                    "n": int(values["n"]),
                }
            )
    return rows


def _week_of(day):
    """SQL: the Monday of a date column's ISO week."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", day), Date)
    return func.date(day, "weekday 0", "-6 days")


# (week table, its day table, the summed columns, the grouping columns but the day)
WEEKLY = (
    (ReportDoctorWeek, ReportDoctorDay, STATUS_COLUMNS, ("doctor_id", "clinic_id")),
    (ReportLeadWeek, ReportLeadDay, ("n",), ("specialty_id", "clinic_id", "bucket")),
)


def _roll_weeks(key: int, ranges: list[tuple], through) -> int:
    """Rewrite a clinic's week rows of the weeks that the recounted `ranges` touch, for
    the weeks rolled to their Sunday (`through`): each the sum of its seven day rows."""
    weeks = _merged(
        [
            (a - timedelta(days=a.weekday()), b - timedelta(days=b.weekday()) + timedelta(days=6))
            for a, b in ranges
        ]
    )
    written = 0
    for week_table, day_table, summed, grouped in WEEKLY:
        for a, b in weeks:
            db.session.execute(
                delete(week_table).where(week_table.clinic_id == key, week_table.day.between(a, b))
            )
            last = min(b, through - timedelta(days=(through.weekday() + 1) % 7))
            if last < a:
                continue  # no week of the range rolled to its Sunday yet
            week = _week_of(day_table.day)
            keys = [getattr(day_table, c) for c in grouped]
            source = (
                select(
                    week.label("day"),
                    *keys,
                    *(func.sum(getattr(day_table, c)).label(c) for c in summed),
                )
                .where(day_table.clinic_id == key, day_table.day.between(a, last))
                .group_by(week, *keys)
            )
            result = db.session.execute(
                insert(week_table).from_select(["day", *grouped, *summed], source)
            )
            written += max(result.rowcount or 0, 0)
    return written


def _days_of(ranges: list[tuple]) -> int:
    return sum((b - a).days + 1 for a, b in ranges)


def refresh(*, now: datetime | None = None) -> RefreshReport:
    """Roll every clinic's local days that ended at least SETTLE before `now`, and recount
    the rolled days marked dirty (every day of a clinic marked whole, whose zone changed, or
    never rolled). Returns what it did."""
    now = now or utcnow()
    report = RefreshReport()
    db.session.commit()  # a transaction of its own, from its first statement (the lock)
    with transaction():
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            # The first roll of a year of history runs longer than a request may
            # (DB_STATEMENT_TIMEOUT_SECONDS): not this transaction.
            db.session.execute(text("SET LOCAL statement_timeout = 0"))
            db.session.execute(text("LOCK TABLE report_dirty IN EXCLUSIVE MODE"))
        clinics = {NO_CLINIC: "UTC"}
        clinics.update(dict(db.session.execute(select(Clinic.id, Clinic.timezone)).all()))
        states = {s.clinic_id: s for s in db.session.scalars(select(ReportRollupClinic))}
        dirty: dict[int, set] = defaultdict(set)
        for clinic_id, day in db.session.execute(select(ReportDirty.clinic_id, ReportDirty.day)):
            dirty[clinic_id].add(day)
        gone = [key for key in states if key not in clinics]
        for table in (*ROLLED, ReportRollupClinic):
            if gone:
                db.session.execute(delete(table).where(table.clinic_id.in_(gone)))
        work: dict[tuple, list[int]] = defaultdict(list)  # (tz, ranges) -> clinic keys
        weeks: dict[int, tuple] = {}  # clinic key -> (recounted ranges, rolled through)
        for key, tz in clinics.items():
            through = (now - SETTLE).astimezone(zone(tz)).date() - timedelta(days=1)
            state = states.get(key)
            if state is None or state.timezone != tz or ALL_DAYS in dirty[key]:
                ranges = [(FIRST_DAY, through)]
                for table in ROLLED:
                    db.session.execute(delete(table).where(table.clinic_id == key))
            else:
                through = max(through, state.rolled_through)
                stale = set()
                for utc_day in dirty[key]:
                    a, b = local_days_of_utc_day(utc_day, tz)
                    stale.update(
                        a + timedelta(days=i)
                        for i in range((b - a).days + 1)
                        if a + timedelta(days=i) <= state.rolled_through
                    )
                ranges = [(d, d) for d in sorted(stale)]
                if through > state.rolled_through:
                    ranges.append((state.rolled_through + timedelta(days=1), through))
                ranges = _merged(ranges)
                for table in DAILY:
                    for a, b in ranges:
                        db.session.execute(
                            delete(table).where(table.clinic_id == key, table.day.between(a, b))
                        )
            if state is None:
                db.session.add(
                    ReportRollupClinic(
                        clinic_id=key, timezone=tz, rolled_through=through, refreshed_at=now
                    )
                )
            else:
                state.timezone, state.rolled_through, state.refreshed_at = tz, through, now
            if ranges:
                weeks[key] = (ranges, through)
                work[(tz, tuple(ranges))].append(key)
                report.clinics += 1
                report.days += _days_of(ranges)
        spans = [
            Span(tz, tuple(None if k == NO_CLINIC else k for k in keys), a, b)
            for (tz, ranges), keys in work.items()
            for a, b in ranges
        ]
        for start in range(0, len(spans), 50):  # a statement's OR list stays short
            part = spans[start : start + 50]
            for table, rows in (
                (ReportDay, _count_days(part)),
                (ReportMoneyDay, _count_money(part)),
                (ReportDoctorDay, _count_doctors(part)),
                (ReportLeadDay, _count_lead(part)),
            ):
                if rows:
                    db.session.execute(insert(table), rows)
                    report.rows += len(rows)
        for key, (ranges, through) in weeks.items():
            report.rows += _roll_weeks(key, ranges, through)
        db.session.execute(delete(ReportDirty))
        db.session.flush()
    return report


def _merged(ranges: list[tuple]) -> list[tuple]:
    out: list[list] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + timedelta(days=1):
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]
