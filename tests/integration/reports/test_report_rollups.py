"""The rollups give the same figures as counting live, on PostgreSQL and SQLite: after a
refresh, and after every kind of change to a rolled day before the next one (the triggers of
migration 0024 mark the day, the report counts it live), and after a refresh again."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, literal, select

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    PaymentMethod,
    ReportDay,
    ReportDirty,
    ReportRollupClinic,
    Review,
    Role,
    Slot,
    SlotStatus,
)
from app.services.reports import build_report, queries, rollup
from app.services.reports.filters import ReportScope
from app.services.reports.refresh import SETTLE, WEEKLY, refresh
from tests.factories import make_clinic, make_doctor, make_payment, make_user
from tests.integration.reports.builders import open_slot, refund, review, visit

S = AppointmentStatus
# The scopes end the day before TODAY, which a refresh must have rolled in every clinic's zone
# whatever the hour the test runs: it rolls through the day before (now - SETTLE) there, and New
# York is up to five hours behind UTC (TODAY is the day before the UTC date until 07:00 UTC).
TODAY = (datetime.now(UTC) - SETTLE - timedelta(hours=5)).date()
BASE = datetime.combine(TODAY - timedelta(days=30), time(0), UTC)


def at(day: int, hour: int) -> datetime:
    """`day` days after the month's first (30 days ago), at `hour` UTC."""
    return BASE + timedelta(days=day, hours=hour)


def figures(scope: ReportScope) -> dict:
    report = build_report(scope)
    out = {name: table.rows for name, table in report.tables.items()}
    out["lead_summary"] = report.lead_summary
    out["totals"] = report.totals
    return out


def live_figures(scope: ReportScope) -> dict:
    """The figures with the rollups out of the way (every day counted live)."""
    kept = [
        {"clinic_id": s.clinic_id, "timezone": s.timezone, "rolled_through": s.rolled_through,
         "refreshed_at": s.refreshed_at}
        for s in db.session.scalars(select(ReportRollupClinic))
    ]  # fmt: skip
    db.session.execute(delete(ReportRollupClinic))
    db.session.commit()
    try:
        return figures(scope)
    finally:
        for values in kept:
            db.session.add(ReportRollupClinic(**values))
        db.session.commit()


def scopes(month) -> list[ReportScope]:
    first, last = TODAY - timedelta(days=32), TODAY - timedelta(days=1)
    return [
        ReportScope(start=first, end=last, staff=True),
        ReportScope(start=first, end=last, group_by="week", staff=True),
        ReportScope(start=first, end=last, group_by="month", staff=True),
        ReportScope(start=first, end=last, clinic_id=month["clinic"].id, staff=True),
        ReportScope(start=first, end=last, specialty_id=month["specialty"], staff=True),
    ]


def assert_same_as_live(month) -> None:
    for scope in scopes(month):
        assert figures(scope) == live_figures(scope), scope


def rolled_days(scope: ReportScope) -> int:
    """Clinic-days of the scope read from the rollups."""
    _live, rolled = queries._split(scope)
    return sum(((s.last - s.first).days + 1) * len(s.clinics) for s in rolled)


def all_days(scope: ReportScope) -> int:
    clinics = sum(len(ids) for ids in queries.zones_in_scope(scope).values())
    return scope.days * clinics


def past_month():
    """Two New York doctors (one specialty) and a London one, over the past month."""
    clinic = make_clinic(timezone="America/New_York")
    june = make_doctor(clinic=clinic, name="Dr. June")
    july = make_doctor(clinic=clinic, name="Dr. July", specialties=[])
    london = make_doctor(clinic=make_clinic(timezone="Europe/London"), name="Dr. London")
    regular = make_user(Role.PATIENT, name="Regular")
    v = {
        "first": visit(june, at(3, 2), patient=regular),  # 22:00 the day before in New York
        "second": visit(june, at(10, 14), patient=regular, booked_hours_ahead=2),
        "no_show": visit(june, at(10, 15), S.NO_SHOW),
        "cancelled": visit(june, at(10, 16), S.CANCELLED),
        "paid": visit(june, at(11, 13), S.CONFIRMED, method=PaymentMethod.CARD,
                      booked_hours_ahead=240),
        "moved": visit(june, at(11, 14), S.CANCELLED, reason="rescheduled"),
        "hold": visit(june, at(11, 15), S.EXPIRED),
        "declined": visit(june, at(11, 18), S.REJECTED),
        "due": visit(june, at(12, 15), S.CONFIRMED),
        "due2": visit(june, at(12, 16), S.CONFIRMED),
        "july": visit(july, at(12, 17), patient=regular),
        "london": visit(london, at(10, 14)),
        "london_paid": visit(london, at(14, 15), S.CONFIRMED, method=PaymentMethod.CARD),
    }  # fmt: skip
    open_slot(june, at(10, 17))
    open_slot(june, at(10, 18))
    open_slot(june, at(10, 19), status=SlotStatus.BLOCKED)
    payment = make_payment(v["paid"], captured_at=at(11, 12))
    refund(payment, 4000, at(12, 15))
    make_payment(v["london_paid"], captured_at=at(10, 9))
    review(v["first"], 5, at(10, 20))
    review(v["second"], 3, at(11, 20))
    review(v["no_show"], 1, at(11, 21), hidden=True)
    review(v["london"], 2, at(10, 20))
    return {
        "clinic": clinic,
        "june": june,
        "july": july,
        "london": london,
        "regular": regular,
        "visits": v,
        "payment": payment,
        "specialty": june.specialties[0].id,
    }


def test_rolled_figures_equal_live_ones(any_db):
    month = past_month()
    live = {s: live_figures(s) for s in scopes(month)}
    done = refresh()
    assert done.rows and db.session.scalar(select(func.count()).select_from(ReportDay))
    assert not db.session.scalar(select(func.count()).select_from(ReportDirty))
    for scope in scopes(month):
        assert rolled_days(scope) == all_days(scope)  # every day of both clinics: no live one
        assert figures(scope) == live[scope]
    staff = figures(scopes(month)[0])
    assert staff["totals"]["booked"] == 11
    assert {(r["doctor"], r["booked"]) for r in staff["doctors"]} == {
        ("Dr. June", 8), ("Dr. July", 1), ("Dr. London", 2)
    }  # fmt: skip


def test_changes_to_rolled_days_are_counted_live_until_the_next_refresh(any_db):
    month = past_month()
    refresh()
    v = month["visits"]
    scope = scopes(month)[0]

    def change(apply) -> None:
        apply()
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ReportDirty))
        assert rolled_days(scope) < all_days(scope)  # the touched days are live now
        assert_same_as_live(month)

    def status(name, value):
        def apply():
            v[name].status = value
            if value is S.CANCELLED:
                v[name].cancelled_at, v[name].cancellation_reason = at(12, 10), "ill"

        return apply

    change(status("due", S.COMPLETED))
    change(status("due2", S.NO_SHOW))
    change(status("second", S.CANCELLED))  # the regular's first visit stays "first"
    change(lambda: refund(month["payment"], 1000, at(13, 9)))
    refresh()
    assert not db.session.scalar(select(func.count()).select_from(ReportDirty))
    assert_same_as_live(month)

    # A visit moved to another day: the old one cancelled as rescheduled, a new one booked.
    def move():
        v["london_paid"].status = S.CANCELLED
        v["london_paid"].cancellation_reason = "rescheduled"
        visit(month["london"], at(16, 9), S.CONFIRMED, method=PaymentMethod.CARD)

    change(move)
    # An earlier completed visit of the regular with Dr. June: her "first" is another now.
    change(lambda: visit(month["june"], at(1, 15), patient=month["regular"]))

    def hide():
        row = db.session.scalar(select(Review).where(Review.appointment_id == v["london"].id))
        row.hidden_at, row.hidden_reason = at(20, 0), "spam"

    change(hide)

    def drop_slot():
        slot = db.session.scalar(select(Slot).where(Slot.start_at == at(10, 18)))
        db.session.delete(slot)

    change(drop_slot)

    def move_slot():
        slot = db.session.scalar(select(Slot).where(Slot.start_at == at(10, 17)))
        slot.start_at, slot.end_at = at(18, 17), at(18, 17) + timedelta(minutes=30)

    change(move_slot)
    refresh()
    assert_same_as_live(month)
    assert rolled_days(scope) == all_days(scope)


def test_a_doctor_moving_clinic_makes_both_clinics_live_until_refreshed(any_db):
    month = past_month()
    refresh()
    july = month["july"]
    july.clinic_id = month["london"].clinic_id
    db.session.commit()
    days = {d for (_c, d) in db.session.execute(select(ReportDirty.clinic_id, ReportDirty.day))}
    assert days == {date(1, 1, 1)}
    scope = scopes(month)[0]
    assert rolled_days(scope) == 0
    assert_same_as_live(month)
    refresh()
    assert rolled_days(scope) == all_days(scope)
    assert_same_as_live(month)


def test_a_booking_of_a_future_visit_marks_nothing(any_db):
    month = past_month()
    refresh()
    visit(month["june"], datetime.now(UTC) + timedelta(days=2), S.CONFIRMED)
    assert not db.session.scalar(select(func.count()).select_from(ReportDirty))


def test_long_ranges_read_week_rows_and_the_median_comes_from_the_histogram(any_db):
    month = past_month()
    refresh()
    scope = scopes(month)[0]
    _live, rolled = queries._split(scope)
    edges, weeks = rollup.by_weeks(rolled)
    assert weeks and all(s.first.weekday() == 0 == s.last.weekday() for s in weeks)
    assert sum(((s.last - s.first).days + 7) * len(s.clinics) for s in weeks) + sum(
        ((s.last - s.first).days + 1) * len(s.clinics) for s in edges
    ) == rolled_days(scope)  # fmt: skip
    # Each week row is the sum of its seven day rows.
    for week_table, day_table, summed, grouped in WEEKLY:
        for row in db.session.scalars(select(week_table)):
            days = select(*(func.sum(getattr(day_table, c)) for c in summed)).where(
                day_table.day.between(row.day, row.day + timedelta(days=6)),
                *(getattr(day_table, c) == getattr(row, c) for c in grouped),
            )
            assert tuple(db.session.execute(days).one()) == tuple(getattr(row, c) for c in summed)
        assert db.session.scalar(select(func.count()).select_from(week_table))
    # The rolled median is read from the histogram alone: with the visits gone, it stays.
    summary = figures(scope)["lead_summary"]
    assert summary["median_hours"] is not None
    live, rolled = queries._split(scope)
    base = queries._appointments(scope).where(queries._booked()).where(literal(False))
    assert queries._median_hours(base, scope, live, rolled) == summary["median_hours"]


def test_lead_buckets_have_exact_edges(any_db):
    doctor = make_doctor(clinic=make_clinic(timezone="UTC"))
    start = datetime.now(UTC) + timedelta(days=400)
    ahead = {0.5: 0, 1: 1, 47.99: 47, 48: 48, 71.99: 48, 72: 49, 365 * 24: 411, 366 * 24: 412}
    rows = {}
    for i, (hours, bucket) in enumerate(ahead.items()):
        v = visit(doctor, start + timedelta(hours=i), S.CONFIRMED, booked_hours_ahead=hours)
        rows[v.id] = bucket
    found = dict(
        db.session.execute(
            select(Appointment.id, queries.lead_bucket()).where(Appointment.id.in_(rows))
        ).all()
    )
    assert found == rows
    assert [queries.bucket_start_hours(b) for b in (0, 47, 48, 49, 411, 412)] == [
        0, 47, 48, 72, 365 * 24, 366 * 24
    ]  # fmt: skip
