"""The report queries read slots, appointments, payments, refunds and reviews through their
indexes on PostgreSQL, never a whole table.

The rows are shaped like a year of a live system (200 doctors in six clinics over three
zones, a slot a day each for the 365 days before today, nine in ten booked, a third as much
cancelled, moved, declined and abandoned history, card payments and refunds, reviews of a
third of the completed visits), ANALYZEd, so that the planner weighs what it would weigh in
production: a month is a twelfth of the table, a doctor a two-hundredth. Every statement a
report sends is EXPLAINed with its own parameters (the helpers of test_search_plans): first
counted live (no rollups yet), then once the year is rolled (services/reports/refresh), when
the reports read the rollup tables, through their keys too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, text

from app.extensions import db
from app.models import Clinic, Doctor, Specialty
from app.services.reports import build_table, queries, table_names
from app.services.reports.filters import ReportScope
from app.services.reports.refresh import refresh
from tests.integration.test_search_plans import captured_statements, plan_nodes

DOCTORS, DAYS = 200, 365
WATCHED = {
    "slots", "appointments", "payments", "refunds", "reviews",
    "report_days", "report_money_days", "report_doctor_days", "report_doctor_weeks",
    "report_lead_days", "report_lead_weeks",
}  # fmt: skip
ROLLUPS = ("report_days", "report_money_days", "report_doctor_days", "report_doctor_weeks")

SEED_SQL = [
    """
    INSERT INTO specialties (name, slug)
    SELECT initcap(s), s FROM unnest(ARRAY['cardiology', 'dermatology', 'pediatrics']) AS s
    """,
    """
    INSERT INTO clinics (name, city, timezone, currency, cancellation_window_hours,
                         accepts_cash, created_at, updated_at)
    SELECT 'Report clinic ' || c, (ARRAY['New York', 'London', 'Sydney'])[c % 3 + 1],
           (ARRAY['America/New_York', 'Europe/London', 'Australia/Sydney'])[c % 3 + 1],
           (ARRAY['USD', 'GBP', 'AUD'])[c % 3 + 1], 24, true, now(), now()
    FROM generate_series(0, 5) AS c
    """,
    """
    INSERT INTO users (email, name, role, must_change_password, is_active, created_at,
                       updated_at)
    SELECT 'report-doctor' || d || '@example.com', 'Dr. Report ' || d, 'doctor', false, true,
           now(), now()
    FROM generate_series(1, :doctors) AS d
    """,
    """
    INSERT INTO users (email, name, role, must_change_password, is_active, created_at,
                       updated_at)
    SELECT 'report-patient' || u.id || '-' || k || '@example.com', 'Patient ' || u.id,
           'patient', false, true, now(), now()
    FROM users AS u CROSS JOIN generate_series(0, 4) AS k WHERE u.role = 'doctor'
    """,
    """
    INSERT INTO doctors (user_id, clinic_id, fee_amount, fee_currency, requires_approval,
                         verified_at, created_at, updated_at)
    SELECT u.id, c.id, 10000, c.currency, false, now(), now(), now()
    FROM users AS u
    JOIN clinics AS c ON c.id = (SELECT min(id) FROM clinics) + (u.id % 6)
    WHERE u.role = 'doctor'
    """,
    """
    INSERT INTO doctor_specialties (doctor_id, specialty_id)
    SELECT d.id, (SELECT min(id) FROM specialties) + d.id % 3 FROM doctors AS d
    """,
    """
    INSERT INTO slots (doctor_id, start_at, end_at, mode, status, created_at, updated_at)
    SELECT d.id, t, t + interval '30 minutes', 'in_person',
           CASE WHEN (d.id + day) % 41 = 0 THEN 'blocked' ELSE 'open' END, now(), now()
    FROM doctors AS d
    CROSS JOIN generate_series(1, :days) AS day
    CROSS JOIN LATERAL (SELECT date_trunc('day', now()) - make_interval(days => day)
                               + make_interval(hours => 8 + (d.id + day) % 8) AS t) AS at
    """,
    """
    INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at, ends_at,
                              payment_method, fee_amount, fee_currency, created_at, updated_at)
    SELECT p.id, s.doctor_id, s.id,
           CASE WHEN s.id % 12 = 0 THEN 'no_show' ELSE 'completed' END,
           s.start_at, s.end_at, CASE WHEN s.id % 2 = 0 THEN 'card' ELSE 'cash' END,
           10000, 'USD', s.start_at - (s.id % 400) * interval '1 hour', s.start_at
    FROM slots AS s
    JOIN doctors AS d ON d.id = s.doctor_id
    JOIN users AS p ON p.email = 'report-patient' || d.user_id || '-' || s.id % 5
                                 || '@example.com'
    WHERE s.status = 'open' AND s.id % 10 <> 0
    """,
    """
    INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at, ends_at,
                              hold_expires_at, payment_method, fee_amount, fee_currency,
                              cancelled_at, cancellation_reason, created_at, updated_at)
    SELECT p.id, s.doctor_id, s.id,
           (ARRAY['cancelled', 'cancelled', 'expired', 'rejected'])[s.id % 4 + 1],
           s.start_at, s.end_at, s.start_at, 'card', 10000, 'USD',
           CASE WHEN s.id % 4 < 2 THEN s.start_at - interval '1 day' END,
           CASE WHEN s.id % 4 = 1 THEN 'rescheduled' WHEN s.id % 4 = 0 THEN 'changed' END,
           s.start_at - interval '3 days', s.start_at
    FROM slots AS s
    JOIN doctors AS d ON d.id = s.doctor_id
    JOIN users AS p ON p.email = 'report-patient' || d.user_id || '-' || (s.id + 1) % 5
                                 || '@example.com'
    WHERE s.id % 3 = 0
    """,
    """
    INSERT INTO payments (appointment_id, provider, stripe_payment_intent_id, amount, currency,
                          status, amount_captured, amount_refunded, captured_at, created_at,
                          updated_at)
    SELECT a.id, 'stripe', 'pi_plan_' || a.id, 10000, 'USD',
           CASE WHEN a.status = 'cancelled' THEN 'refunded' ELSE 'captured' END, 10000,
           CASE WHEN a.status = 'cancelled' THEN 10000 ELSE 0 END,
           a.created_at + interval '1 minute', a.created_at, a.created_at
    FROM appointments AS a
    WHERE a.payment_method = 'card' AND a.status IN ('completed', 'no_show', 'cancelled')
    """,
    """
    INSERT INTO refunds (payment_id, amount, created_at)
    SELECT p.id, p.amount_refunded, p.captured_at + interval '1 day'
    FROM payments AS p WHERE p.amount_refunded > 0
    """,
    """
    INSERT INTO reviews (appointment_id, patient_id, doctor_id, rating, created_at, hidden_at,
                         hidden_reason)
    SELECT a.id, a.patient_id, a.doctor_id, 1 + a.id % 5, a.ends_at,
           CASE WHEN a.id % 20 = 0 THEN now() END, CASE WHEN a.id % 20 = 0 THEN 'plan' END
    FROM appointments AS a WHERE a.status = 'completed' AND a.id % 3 = 0
    """,
]


@pytest.fixture(scope="module")
def year(app):
    """The seeded year, ANALYZEd, shared by the module; emptied afterwards."""
    with app.app_context():
        for statement in SEED_SQL:
            db.session.execute(text(statement), {"doctors": DOCTORS, "days": DAYS})
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        indexes = set(
            db.session.scalars(
                text("SELECT indexname FROM pg_indexes WHERE tablename IN :tables").bindparams(
                    bindparam("tables", expanding=True)
                ),
                {"tables": sorted(WATCHED)},
            )
        )
        db.session.remove()
    yield indexes
    with app.app_context():
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def seeded(app, year):
    with app.app_context():
        yield year
        db.session.remove()


def unkeyed_reads(plan: dict, indexes: set[str]) -> list[str]:
    """A Seq Scan of a watched table, or one of its indexes read whole (no Index Cond)."""
    found = []
    for node in plan_nodes(plan):
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in WATCHED:
            found.append(f"Seq Scan on {node['Relation Name']}")
        elif node.get("Index Name") in indexes and "Index Cond" not in node:
            found.append(f"{node['Node Type']} on {node['Index Name']} without Index Cond")
    return found


def offenders(statements, indexes: set[str]) -> list[str]:
    found_any, explained = [], 0
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            if not any(table in statement for table in WATCHED):
                continue
            explained += 1
            plan = conn.exec_driver_sql(
                "EXPLAIN (FORMAT JSON) " + statement, parameters or {}
            ).scalar_one()[0]["Plan"]
            found = unkeyed_reads(plan, indexes)
            if found:
                text_plan = conn.exec_driver_sql("EXPLAIN " + statement, parameters or {})
                found_any.append(
                    f"{'; '.join(found)}\n{statement}\n" + "\n".join(r[0] for r in text_plan)
                )
    assert explained, "no report statement was captured"
    return found_any


def _scope(kind: str) -> ReportScope:
    today = datetime.now(UTC).date()
    month = {"start": today - timedelta(days=30), "end": today - timedelta(days=1)}
    if kind == "everyone, a month":
        return ReportScope(**month, staff=True)
    if kind == "everyone, a quarter by week":
        return ReportScope(
            start=today - timedelta(days=90), end=month["end"], group_by="week", staff=True
        )
    if kind == "a clinic, a month":
        clinic = db.session.scalars(db.select(Clinic.id).order_by(Clinic.id)).first()
        return ReportScope(**month, clinic_id=clinic, staff=True)
    if kind == "a specialty, a month":
        specialty = db.session.scalars(db.select(Specialty.id).order_by(Specialty.id)).first()
        return ReportScope(**month, specialty_id=specialty, staff=True)
    doctor = db.session.scalars(db.select(Doctor.id).order_by(Doctor.id).offset(17)).first()
    return ReportScope(
        start=today - timedelta(days=365), end=month["end"], group_by="month", doctor_id=doctor
    )


KINDS = [
    "everyone, a month",
    "everyone, a quarter by week",
    "a clinic, a month",
    "a specialty, a month",
    "a doctor, a year by month",
]
REPORTS = [
    "bookings", "utilisation", "lead_time", "patients", "ratings", "busiest_hours",
    "revenue", "payment_methods", "doctors",
]  # fmt: skip


MONEY = {"revenue", "payment_methods", "doctors"}  # staff reports only: a doctor has none
CASES = [
    (kind, report)
    for kind in KINDS
    for report in REPORTS
    if not (kind.startswith("a doctor") and report in MONEY)
]


@pytest.mark.parametrize(("kind", "report"), CASES)
def test_report_reads_through_indexes(seeded, kind, report):
    scope = _scope(kind)
    assert report in table_names(scope)
    with captured_statements() as statements:
        table = build_table(scope, report)
    assert table.rows
    assert offenders(statements, seeded) == []


def test_the_detail_export_reads_through_an_index(seeded):
    from app.services.reports.queries import appointment_rows

    scope = _scope("a doctor, a year by month")
    with captured_statements() as statements:
        rows = list(appointment_rows(scope))
    assert rows
    assert offenders(statements, seeded) == []


@pytest.fixture(scope="module")
def rolled(app, year):
    """The same year, rolled (after the live cases above: the module runs in order)."""
    with app.app_context():
        refresh()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.session.remove()
    return year


@pytest.mark.parametrize(("kind", "report"), CASES)
def test_rolled_report_reads_through_indexes(app, rolled, kind, report):
    with app.app_context():
        scope = _scope(kind)
        with captured_statements() as statements:
            table = build_table(scope, report)
        assert table.rows
        assert offenders(statements, rolled) == []
        read_rollups = any(t in s for s, _ in statements for t in ROLLUPS)
        assert read_rollups == (not kind.startswith("a doctor"))  # one doctor's stay live
        db.session.remove()


@pytest.mark.parametrize("kind", [k for k in KINDS if not k.startswith("a doctor")])
def test_rolled_median_reads_its_histogram_through_indexes(app, rolled, kind):
    with app.app_context():
        scope = _scope(kind)
        with captured_statements() as statements:
            _by_period, _bands, summary = queries.lead_time(scope)
        assert summary["median_hours"] is not None
        assert offenders(statements, rolled) == []
        assert any("report_lead_days" in s or "report_lead_weeks" in s for s, _ in statements)
        db.session.remove()
