"""Report latency at a million appointments: every report, in the service and over HTTP.

Seeds its own PostgreSQL database (BENCH_REPORTS_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/carebook_bench_reports) once: bench/seed_large.py's
clinics, doctors, specialties and patients (2,000 doctors in 20 clinics, 8 time zones), then a
year of history built with INSERT ... SELECT over generate_series: one to three slots a day per
doctor (clinic-local 09:00-17:00) for the 365 days before today, most booked (completed or
no-show) and the rest open, plus cancelled, moved, declined and abandoned-hold history; card
payments captured before each card visit, refunds of the cancelled ones, reviews of a third of
the completed visits (one in twenty hidden); then VACUUM ANALYZE. `--appointments` sets the
size (1,000,000 by default; the slot and history counts follow).

Then it brings the report rollups up to date (services/reports/refresh: the first run rolls
the whole year, later ones only what changed) and prints how long that took; `--no-rollups`
empties them instead, to measure every report counted live. Then it times each report
(services/reports) for a few scopes, p50/p95 over `--runs` runs after warm-up (and, as
`lead summary`, the lead time with the range's median, from the rollups' histogram), beside a
reference measured in the same run (`SELECT 1` through the same session; GET /healthz over
HTTP), and GET /api/v1/reports/bookings and /doctor/reports over
gunicorn. Each report's statements are EXPLAINed and their access paths printed.

    .venv/bin/python bench/bench_reports.py              # seed once, then measure
    .venv/bin/python bench/bench_reports.py --reset      # drop the database and seed again
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

os.environ.setdefault(
    "BENCH_DATABASE_URL",
    os.environ.get(
        "BENCH_REPORTS_DATABASE_URL",
        "postgresql://postgres@127.0.0.1:5432/carebook_bench_reports",
    ),
)

import psycopg
import requests
import seed_large
from benchlib import (
    BENCH_SECRET_KEY,
    BENCH_URL,
    ROOT,
    bench_app,
    captured_statements,
    plan_nodes,
    psycopg_url,
    server_env,
    summary_ms,
)

WATCHED = (
    "slots", "appointments", "payments", "refunds", "reviews",
    "report_days", "report_money_days", "report_doctor_days", "report_doctor_weeks",
    "report_lead_days", "report_lead_weeks",
)  # fmt: skip
# The tables seed_large builds that the history needs (its slots and bookings are not).
BASE_LABELS = (
    "specialties", "clinics", "users", "patient profiles", "doctors", "doctor specialties",
)  # fmt: skip


def history_statements(appointments: int) -> list[tuple[str, str, dict]]:
    """(label, SQL, parameters): a year of slots and visits before today, sized so that the
    appointments come to about `appointments` (0.65 of them on booked slots, 0.35 history)."""
    doctors = seed_large.DOCTORS
    # Booked slots are 90 % of the slots; history adds 0.35 / 0.65 of the booked count.
    slots_per_doctor_day = max(1, round(appointments * 0.65 / 0.9 / doctors / 365))
    params = {
        "per_day": slots_per_doctor_day,
        "per_doctor": seed_large.PATIENTS_PER_DOCTOR,
        "history_share": 0.35 / 0.65,
    }
    return [
        (
            "past slots",
            # Clinic-local 09:00 to 17:00 on the half hour, one doctor's slots an hour apart.
            """
            INSERT INTO slots (doctor_id, start_at, end_at, mode, status, created_at, updated_at)
            SELECT d.id, t.start_at, t.start_at + interval '30 minutes', 'in_person',
                   CASE WHEN abs(hashint4(d.id * 7919 + day * 31 + i)) %% 60 = 0
                        THEN 'blocked' ELSE 'open' END,
                   t.start_at - interval '40 days', t.start_at - interval '40 days'
            FROM doctors AS d
            JOIN clinics AS c ON c.id = d.clinic_id
            CROSS JOIN generate_series(1, 365) AS day
            CROSS JOIN generate_series(0, %(per_day)s - 1) AS i
            CROSS JOIN LATERAL (
                SELECT ((current_date - day)::timestamp + interval '9 hours'
                        + ((abs(hashint4(d.id + day)) %% 4) + i * 2) * interval '1 hour'
                        + (d.id %% 2) * interval '30 minutes')
                       AT TIME ZONE c.timezone AS start_at
            ) AS t
            WHERE (abs(hashint4(d.id + day)) %% 4) + i * 2 < 8
            """,
            params,
        ),
        (
            "past visits (completed, no-show)",
            # 90 % of the open slots; booked 0 to 21 days ahead; half paid by card.
            """
            INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at, ends_at,
                                      confirmed_at, payment_method, fee_amount, fee_currency,
                                      created_at, updated_at)
            SELECT p.id, s.doctor_id, s.id,
                   CASE WHEN s.r %% 12 = 0 THEN 'no_show' ELSE 'completed' END,
                   s.start_at, s.end_at, s.start_at - (s.r %% 500) * interval '1 hour',
                   CASE WHEN s.r %% 2 = 0 THEN 'card' ELSE 'cash' END,
                   d.fee_amount, d.fee_currency,
                   s.start_at - (s.r %% 500) * interval '1 hour', s.start_at
            FROM (SELECT id, doctor_id, start_at, end_at, abs(hashint4(id)) AS r FROM slots
                  WHERE status = 'open' AND start_at < now() - interval '1 hour') AS s
            JOIN doctors AS d ON d.id = s.doctor_id
            JOIN users AS p ON p.email = 'patient' || (
                (d.id - (SELECT min(id) FROM doctors)) * %(per_doctor)s
                + s.r / 100 %% %(per_doctor)s + 1) || '@bench.example'
            WHERE s.r %% 10 <> 0
            """,
            params,
        ),
        (
            "cancelled, moved, declined, abandoned",
            """
            INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at, ends_at,
                                      hold_expires_at, payment_method, fee_amount, fee_currency,
                                      cancelled_at, cancellation_reason, created_at, updated_at)
            SELECT p.id, s.doctor_id, s.id,
                   (ARRAY['cancelled', 'cancelled', 'cancelled', 'expired', 'rejected'])
                       [s.r %% 5 + 1],
                   s.start_at, s.end_at,
                   s.start_at - (s.r %% 300) * interval '1 hour' + interval '5 minutes',
                   CASE WHEN s.r %% 3 = 0 THEN 'cash' ELSE 'card' END,
                   d.fee_amount, d.fee_currency,
                   CASE WHEN s.r %% 5 < 3 THEN s.start_at - (s.r %% 48) * interval '1 hour' END,
                   CASE WHEN s.r %% 5 = 2 THEN 'rescheduled'
                        WHEN s.r %% 5 < 2 THEN 'cancelled by patient' END,
                   s.start_at - (s.r %% 300) * interval '1 hour', s.start_at
            FROM (SELECT id, doctor_id, start_at, end_at, abs(hashint4(id + 13)) AS r
                  FROM slots WHERE start_at < now() - interval '1 hour') AS s
            JOIN doctors AS d ON d.id = s.doctor_id
            JOIN users AS p ON p.email = 'patient' || (
                (d.id - (SELECT min(id) FROM doctors)) * %(per_doctor)s
                + s.r / 100 %% %(per_doctor)s + 1) || '@bench.example'
            WHERE s.r %% 1000 < 1000 * %(history_share)s * 0.9
            """,
            params,
        ),
        (
            "card payments",
            """
            INSERT INTO payments (appointment_id, provider, stripe_payment_intent_id, amount,
                                  currency, status, amount_captured, amount_refunded,
                                  captured_at, created_at, updated_at)
            SELECT a.id, 'stripe', 'pi_bench_' || a.id, a.fee_amount, a.fee_currency,
                   CASE WHEN a.status = 'cancelled' THEN 'refunded' ELSE 'captured' END,
                   a.fee_amount,
                   CASE WHEN a.status = 'cancelled' THEN a.fee_amount ELSE 0 END,
                   a.created_at + interval '2 minutes', a.created_at, a.created_at
            FROM appointments AS a
            WHERE a.payment_method = 'card' AND a.status IN ('completed', 'no_show', 'cancelled')
              AND a.starts_at < now()
            """,
            {},
        ),
        (
            "refunds",
            """
            INSERT INTO refunds (payment_id, stripe_refund_id, amount, reason, created_at)
            SELECT p.id, 're_bench_' || p.id, p.amount_refunded, 'cancelled',
                   a.cancelled_at
            FROM payments AS p JOIN appointments AS a ON a.id = p.appointment_id
            WHERE p.amount_refunded > 0
            """,
            {},
        ),
        (
            "reviews",
            """
            INSERT INTO reviews (appointment_id, patient_id, doctor_id, rating, comment,
                                 created_at, hidden_at, hidden_reason)
            SELECT a.id, a.patient_id, a.doctor_id, 1 + abs(hashint4(a.id)) %% 5,
                   'Bench review ' || a.id, a.ends_at + interval '3 hours',
                   CASE WHEN a.id %% 20 = 0 THEN a.ends_at + interval '1 day' END,
                   CASE WHEN a.id %% 20 = 0 THEN 'bench' END
            FROM appointments AS a WHERE a.status = 'completed' AND a.id %% 3 = 0
            """,
            {},
        ),
        (
            "rating totals",
            """
            UPDATE doctors SET rating_count = t.n, rating_sum = t.total
            FROM (SELECT doctor_id, count(*) AS n, sum(rating) AS total FROM reviews
                  WHERE hidden_at IS NULL GROUP BY doctor_id) AS t
            WHERE t.doctor_id = doctors.id
            """,
            {},
        ),
        (
            "admin with an authenticator (API tokens need one)",
            "UPDATE users SET totp_secret = 'bench-not-a-real-secret' WHERE role = 'admin'",
            {},
        ),
    ]


def seed(appointments: int, reset: bool) -> None:
    started = time.perf_counter()
    seed_large.create_database(reset)
    seed_large.migrate()
    with psycopg.connect(psycopg_url(BENCH_URL), autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM appointments").fetchone()[0]
        if count:
            print(f"already seeded: {count:,} appointments (use --reset to start again)")
            return
        if conn.execute("SELECT count(*) FROM users").fetchone()[0]:
            sys.exit("the database has rows but is not fully seeded: run with --reset")
        print(f"seeding {BENCH_URL}")
        common = {
            "hash": seed_large.password_hash(),
            "doctors": seed_large.DOCTORS,
            "patients": seed_large.DOCTORS * seed_large.PATIENTS_PER_DOCTOR,
        }
        steps = [s for s in seed_large.seed_statements() if s[0] in BASE_LABELS]
        for label, sql, params in steps + history_statements(appointments):
            began = time.perf_counter()
            with conn.transaction():
                rows = conn.execute(sql, {**common, **params}).rowcount
            print(f"  {label:<52} {rows:>10,} rows  {time.perf_counter() - began:6.1f} s")
        began = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  {'VACUUM ANALYZE':<52} {'':>10}       {time.perf_counter() - began:6.1f} s")
    print(f"seeded in {time.perf_counter() - started:.0f} s")


# --- measuring -----------------------------------------------------------------------------


def scopes(db) -> dict:
    from app.models import Clinic, Doctor, Specialty
    from app.services.reports.filters import ReportScope

    today = datetime.now(UTC).date()
    clinic = db.session.scalars(db.select(Clinic.id).order_by(Clinic.id).offset(3)).first()
    specialty = db.session.scalars(db.select(Specialty.id).order_by(Specialty.id)).first()
    doctor = db.session.scalars(db.select(Doctor.id).order_by(Doctor.id).offset(42)).first()

    def last(days: int) -> dict:
        return {"start": today - timedelta(days=days), "end": today - timedelta(days=1)}

    return {
        "all doctors, 30 days by day": ReportScope(**last(30), staff=True),
        "all doctors, 90 days by week": ReportScope(**last(90), group_by="week", staff=True),
        "one clinic, 30 days by day": ReportScope(**last(30), clinic_id=clinic, staff=True),
        "one specialty, 30 days": ReportScope(**last(30), specialty_id=specialty, staff=True),
        "one doctor, 365 days by month": ReportScope(
            **last(365), group_by="month", doctor_id=doctor
        ),
    }


REPORTS = (
    "bookings", "utilisation", "lead_time", "patients", "ratings", "busiest_hours",
    "revenue", "payment_methods", "doctors", "lead_summary",
)  # fmt: skip


def build(scope, report: str):
    from app.services.reports import build_table, queries

    if report == "lead_summary":  # the page's: the lead time with the range's median
        return queries.lead_time(scope)[0]
    return build_table(scope, report)


def applies(scope, report: str) -> bool:
    from app.services.reports import table_names

    return report == "lead_summary" or report in table_names(scope)


def roll(app, db, enabled: bool) -> None:
    """Bring the rollups up to date (or empty them: every report counted live)."""
    from app.models import ReportRollupClinic
    from app.services.reports.refresh import refresh

    with app.app_context():
        if not enabled:
            db.session.execute(db.delete(ReportRollupClinic))
            db.session.commit()
            print("rollups emptied: every report is counted live")
            db.session.remove()
            return
        began = time.perf_counter()
        done = refresh()
        print(
            f"rollups refreshed in {time.perf_counter() - began:.1f} s: {done.days:,} "
            f"clinic-days of {done.clinics} clinics recounted, {done.rows:,} rows written"
        )
        db.session.remove()
    with psycopg.connect(psycopg_url(BENCH_URL), autocommit=True) as conn:
        # As autovacuum would after the first refresh (index-only scans need the visibility map).
        conn.execute(
            "VACUUM ANALYZE report_days, report_money_days, report_doctor_days,"
            " report_doctor_weeks, report_lead_days, report_lead_weeks"
        )


def time_reports(app, db, runs: int) -> list[float]:
    print(f"\nservice level, {runs} runs after 2 warm-up runs, ms")
    print(f"{'scope':<32} {'report':<16} {'rows':>6} {'p50':>8} {'p95':>8} {'max':>8}")
    worst = []
    with app.app_context():
        named = scopes(db)
        db.session.remove()
    reference = []
    for _ in range(runs):
        with app.app_context():
            db.session.execute(db.text("SELECT 1"))  # connect outside the timing
            began = time.perf_counter()
            db.session.execute(db.text("SELECT 1")).scalar()
            reference.append(time.perf_counter() - began)
            db.session.remove()
    r = summary_ms(reference)
    print(
        f"{'reference':<32} {'SELECT 1':<16} {1:>6} "
        f"{r['p50']:>8.2f} {r['p95']:>8.2f} {r['max']:>8.2f}"
    )
    for scope_name, scope in named.items():
        for report in REPORTS:
            if not applies(scope, report):
                continue
            durations, rows = [], 0
            for run in range(runs + 2):
                with app.app_context():
                    began = time.perf_counter()
                    rows = len(build(scope, report).rows)
                    elapsed = time.perf_counter() - began
                    db.session.remove()
                if run >= 2:
                    durations.append(elapsed)
            s = summary_ms(durations)
            worst.append(s["p95"])
            print(
                f"{scope_name:<32} {report:<16} {rows:>6} {s['p50']:>8.2f} {s['p95']:>8.2f} "
                f"{s['max']:>8.2f}"
            )
    return worst


def explain_reports(app, db) -> None:
    print("\naccess paths of each report's statements (EXPLAIN ANALYZE)")
    with app.app_context():
        for scope_name, scope in scopes(db).items():
            for report in REPORTS:
                if not applies(scope, report):
                    continue
                with captured_statements(db.engine) as statements:
                    build(scope, report)
                db.session.remove()
                with db.engine.connect() as conn:
                    for statement, parameters in statements:
                        if not any(t in statement for t in WATCHED):
                            continue
                        (explained,) = conn.exec_driver_sql(
                            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters or {}
                        ).one()
                        paths = sorted(
                            {
                                node["Node Type"]
                                + " "
                                + (node.get("Index Name") or node.get("Relation Name", ""))
                                for node in plan_nodes(explained[0]["Plan"])
                                if node.get("Relation Name") in WATCHED
                                or any(t in (node.get("Index Name") or "") for t in WATCHED)
                            }
                        )
                        print(
                            f"  {scope_name:<32} {report:<16} "
                            f"{explained[0]['Execution Time']:>8.2f} ms  {'; '.join(paths)}"
                        )


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--log-level", "warning", "--no-control-socket", "wsgi:app"],
        cwd=ROOT,
        env=server_env(),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return process, base
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    sys.exit("the server did not start")


def time_http(app, db, runs: int) -> list[float]:
    from app.models import Doctor, Role, User
    from app.services.accounts.tokens import issue_token

    with app.app_context():
        admin_id = db.session.scalar(db.select(User.id).where(User.role == Role.ADMIN))
        doctor = db.session.scalars(db.select(Doctor).order_by(Doctor.id).offset(42)).first()
        doctor_user = doctor.user_id
        db.session.remove()
    now = datetime.now(UTC)

    def token(user_id: int) -> dict:
        value = issue_token(
            SimpleNamespace(id=user_id, token_version=0), secret_key=BENCH_SECRET_KEY,
            ttl_seconds=3600, now=now,
        )  # fmt: skip
        return {"Authorization": f"Bearer {value}"}

    today = date.today()
    month = f"from={today - timedelta(days=30)}&to={today - timedelta(days=1)}"
    year = f"from={today - timedelta(days=365)}&to={today - timedelta(days=1)}"
    cases = {
        "GET /healthz (reference)": ("/healthz", {}),
        "API bookings, all, 30 days": (f"/api/v1/reports/bookings?{month}", token(admin_id)),
        "API bookings, all, 90 d by week": (
            f"/api/v1/reports/bookings?from={today - timedelta(days=90)}"
            f"&to={today - timedelta(days=1)}&group_by=week",
            token(admin_id),
        ),
        "API bookings, doctor, year/month": (
            f"/api/v1/reports/bookings?{year}&group_by=month",
            token(doctor_user),
        ),
        "API bookings CSV, all, 30 days": (
            f"/api/v1/reports/bookings?{month}&format=csv",
            token(admin_id),
        ),
    }
    process, base = start_server()
    worst = []
    print(f"\nover HTTP (gunicorn, 2 workers), {runs} runs after 2 warm-up runs, ms")
    try:
        with requests.Session() as session:
            for name, (path, headers) in cases.items():
                durations = []
                for run in range(runs + 2):
                    began = time.perf_counter()
                    response = session.get(base + path, headers=headers, timeout=60)
                    elapsed = time.perf_counter() - began
                    if response.status_code != 200:
                        sys.exit(f"{name}: {response.status_code} {response.text[:300]}")
                    if run >= 2:
                        durations.append(elapsed)
                s = summary_ms(durations)
                if "reference" not in name:
                    worst.append(s["p95"])
                print(f"{name:<36} {s['p50']:>8.2f} {s['p95']:>8.2f} {s['max']:>8.2f}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description="Report latency at a million appointments.")
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--reset", action="store_true", help="drop the database first")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per case")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument(
        "--no-rollups", action="store_true", help="empty the rollups: count every report live"
    )
    args = parser.parse_args()
    seed(args.appointments, args.reset)
    if args.seed_only:
        return

    from app.extensions import db

    app = bench_app()
    with app.app_context():
        counts = {
            t: db.session.execute(db.text(f"SELECT count(*) FROM {t}")).scalar() for t in WATCHED
        }
        db.session.remove()
    print("rows:", ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    roll(app, db, not args.no_rollups)
    try:
        service = time_reports(app, db, args.runs)
        http = time_http(app, db, args.runs)
        explain_reports(app, db)
    finally:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()
    print(
        f"\nworst p95: service {max(service):.1f} ms, HTTP {max(http):.1f} ms "
        f"(goal: < 200 ms per report, the lead summary's median included)"
    )


if __name__ == "__main__":
    main()
