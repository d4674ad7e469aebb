"""The report figures, on PostgreSQL and on SQLite (the embedded default): local days and
hours of each clinic, statuses, rates, utilisation, lead time, patients, ratings, money."""

from __future__ import annotations

from datetime import date

import pytest

from app.services.errors import InvalidInput
from app.services.reports import build_report, queries
from app.services.reports.filters import ReportScope, parse_scope
from tests.integration.reports.builders import june

JUNE = {"start": date(2031, 5, 31), "end": date(2031, 6, 30)}


def _rows(table, key="period"):
    return {row[key]: row for row in table.rows}


def test_bookings_by_status_per_local_day(any_db):
    month = june()
    scope = ReportScope(**JUNE, doctor_id=month.doctor.id)
    rows = _rows(queries.bookings(scope))
    assert len(rows) == 31  # every day, empty ones too
    # 02:30 UTC on 1 June is 22:30 on 31 May in New York.
    assert rows[date(2031, 5, 31)]["completed"] == 1
    assert rows[date(2031, 6, 1)]["booked"] == 0
    tenth = rows[date(2031, 6, 10)]
    assert (tenth["booked"], tenth["completed"], tenth["no_show"], tenth["cancelled"]) == (
        3, 1, 1, 1,
    )  # fmt: skip
    assert tenth["cancellation_rate"] == pytest.approx(0.3333)
    assert tenth["no_show_rate"] == 0.5
    eleventh = rows[date(2031, 6, 11)]
    assert (eleventh["booked"], eleventh["confirmed"], eleventh["rejected"]) == (2, 1, 1)
    assert (eleventh["rescheduled"], eleventh["expired"], eleventh["cancelled"]) == (1, 1, 0)
    assert eleventh["no_show_rate"] is None


def test_group_by_week_and_month(any_db):
    month = june()
    weekly = _rows(
        queries.bookings(ReportScope(**JUNE, group_by="week", doctor_id=month.doctor.id))
    )
    # ISO weeks from Monday: 31 May 2031 is a Saturday (week of 26 May), 10-11 June a Tue-Wed.
    assert weekly[date(2031, 5, 26)]["booked"] == 1
    assert weekly[date(2031, 6, 9)]["booked"] == 5
    monthly = _rows(
        queries.bookings(ReportScope(**JUNE, group_by="month", doctor_id=month.doctor.id))
    )
    assert list(monthly) == [date(2031, 5, 1), date(2031, 6, 1)]
    assert (monthly[date(2031, 5, 1)]["booked"], monthly[date(2031, 6, 1)]["booked"]) == (1, 5)


def test_scope_filters_doctor_clinic_and_specialty(any_db):
    month = june()
    everyone = queries.booking_totals(queries.bookings(ReportScope(**JUNE)))
    assert everyone["booked"] == 8  # six of the doctor's, two of the other's
    clinic = ReportScope(**JUNE, clinic_id=month.other.clinic_id)
    assert queries.booking_totals(queries.bookings(clinic))["booked"] == 2
    specialty = ReportScope(**JUNE, specialty_id=month.doctor.specialties[0].id)
    assert queries.booking_totals(queries.bookings(specialty))["booked"] == 6
    narrow = ReportScope(start=date(2031, 6, 11), end=date(2031, 6, 11), doctor_id=month.doctor.id)
    assert queries.booking_totals(queries.bookings(narrow))["booked"] == 2


def test_utilisation_is_booked_over_offered_slot_time(any_db):
    month = june()
    rows = _rows(queries.utilisation(ReportScope(**JUNE, doctor_id=month.doctor.id)))
    # 10 June: five open slots (three visits, two free; the blocked one is not offered), the
    # completed visit and the no-show took 60 of 150 minutes; the cancelled one freed its slot.
    assert rows[date(2031, 6, 10)] == {
        "period": date(2031, 6, 10),
        "offered_minutes": 150,
        "booked_minutes": 60,
        "utilisation": 0.4,
    }
    assert rows[date(2031, 6, 11)]["utilisation"] == 0.25
    assert rows[date(2031, 6, 2)]["utilisation"] is None


def test_lead_time_median_average_and_bands(any_db):
    month = june()
    scope = ReportScope(**JUNE, doctor_id=month.doctor.id)
    by_period, bands, summary = queries.lead_time(scope)
    # Booked 2 h, 4 x 48 h and 240 h ahead (the moved visit and the abandoned hold left out).
    assert summary == {"bookings": 6, "average_hours": 72.3, "median_hours": 48.0}
    assert [b["bookings"] for b in bands.rows] == [1, 4, 0, 1, 0]
    tenth = _rows(by_period)[date(2031, 6, 10)]
    assert tenth["bookings"] == 3
    assert tenth["average_hours"] == pytest.approx((2 + 48 + 48) / 3, abs=0.05)


def test_new_and_returning_patients(any_db):
    month = june()
    rows = _rows(queries.patients(ReportScope(**JUNE, group_by="month", doctor_id=month.doctor.id)))
    assert rows[date(2031, 5, 1)] | {} == {"period": date(2031, 5, 1), "new": 1, "returning": 0}
    assert (rows[date(2031, 6, 1)]["new"], rows[date(2031, 6, 1)]["returning"]) == (0, 1)


def test_rating_over_time_counts_visible_reviews_only(any_db):
    month = june()
    rows = _rows(queries.ratings(ReportScope(**JUNE, doctor_id=month.doctor.id)))
    assert (rows[date(2031, 6, 10)]["reviews"], rows[date(2031, 6, 10)]["average"]) == (1, 5)
    assert (rows[date(2031, 6, 11)]["reviews"], rows[date(2031, 6, 11)]["average"]) == (1, 3)


def test_busiest_hours_are_local(any_db):
    month = june()
    rows = _rows(queries.busiest_hours(ReportScope(**JUNE, doctor_id=month.doctor.id)), "hour")
    busy = {hour: row["bookings"] for hour, row in rows.items() if row["bookings"]}
    assert busy == {"09:00": 1, "10:00": 1, "11:00": 1, "12:00": 1, "14:00": 1, "22:00": 1}


def test_revenue_is_captured_less_refunded_per_currency(any_db):
    month = june()
    scope = ReportScope(**JUNE, staff=True)
    table = queries.revenue(scope)
    rows = {(r["period"], r["currency"]): r for r in table.rows}
    assert rows[(date(2031, 6, 10), "USD")]["captured"] == 10000  # the other doctor's
    assert rows[(date(2031, 6, 11), "USD")]["captured"] == 10000
    assert rows[(date(2031, 6, 12), "USD")]["refunded"] == 4000
    assert rows[(date(2031, 6, 12), "USD")]["net"] == -4000
    assert queries.revenue_totals(table) == [
        {"currency": "USD", "captured": 20000, "refunded": 4000, "net": 16000}
    ]
    own = queries.revenue(ReportScope(**JUNE, doctor_id=month.doctor.id, staff=True))
    assert queries.revenue_totals(own)[0]["net"] == 6000


def test_payment_method_mix_and_doctors(any_db):
    month = june()
    scope = ReportScope(**JUNE, doctor_id=month.doctor.id, staff=True)
    methods = {r["method"]: r for r in queries.payment_methods(scope).rows}
    assert (methods["cash"]["bookings"], methods["card"]["bookings"]) == (4, 1)
    assert methods["cash"]["share"] == 0.8
    doctors = queries.by_doctor(ReportScope(**JUNE, staff=True)).rows
    assert [(d["doctor"], d["booked"]) for d in doctors] == [("Dr. June", 6), ("Dr. Other", 2)]


def test_whole_report_for_a_doctor_leaves_the_money_out(any_db):
    month = june()
    report = build_report(ReportScope(**JUNE, doctor_id=month.doctor.id))
    assert "revenue" not in report.tables and "doctors" not in report.tables
    assert report.totals["booked"] == 6
    staff = build_report(ReportScope(**JUNE, staff=True))
    assert {"revenue", "payment_methods", "doctors"} <= set(staff.tables)


def test_appointment_rows_stream_in_local_time(any_db):
    month = june()
    rows = list(queries.appointment_rows(ReportScope(**JUNE, doctor_id=month.doctor.id)))
    assert len(rows) == 8
    assert rows[0]["starts_local"] == "2031-05-31 22:30"
    assert rows[0]["timezone"] == "America/New_York"
    assert {r["doctor"] for r in rows} == {"Dr. June"}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"from": "2031-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2031-06-10", "to": "2031-06-01"}, "from"),
        ({"from": "2030-01-01", "to": "2031-06-01"}, "to"),
        ({"group_by": "year"}, "group_by"),
        ({"doctor_id": "x"}, "doctor_id"),
        ({"clinic_id": "-1"}, "clinic_id"),
        ({"from": "1900-01-01"}, "from"),
    ],
)
def test_bad_parameters_are_refused(args, field):
    with pytest.raises(InvalidInput) as refused:
        parse_scope(args, today=date(2031, 6, 30))
    assert refused.value.details["field"] == field


def test_defaults_are_the_last_thirty_days_by_day():
    scope = parse_scope({}, today=date(2031, 6, 30))
    assert (scope.start, scope.end, scope.group_by) == (date(2031, 6, 1), date(2031, 6, 30), "day")
    year = parse_scope({"from": "2031-01-01", "to": "2031-12-31"}, today=date(2031, 6, 30))
    assert year.days == 365
