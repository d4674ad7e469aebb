"""Seed a large PostgreSQL database for the benchmarks.

2,000 doctors in 20 clinics (10 cities, 8 time zones, 6 specialties), 60 days of slots from
today (12 or 13 half-hour slots a clinic-local day: ~1.5 million slots), about 15 % of them
booked (confirmed, awaiting approval, held for payment; completed or no-show in the past), plus
cancelled and expired history; then VACUUM ANALYZE. Everything is INSERT ... SELECT over
generate_series, so it runs in a few minutes on two cores.

    .venv/bin/python bench/seed_large.py            # create + migrate + seed (once)
    .venv/bin/python bench/seed_large.py --reset    # drop the database and start again

BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/carebook_bench) names it.
Running it again without --reset keeps an already seeded database as it is.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import psycopg
from argon2 import PasswordHasher
from benchlib import BENCH_URL, ROOT, psycopg_url, server_env

# Every seeded account signs in with this password (one argon2id hash, computed once).
BENCH_PASSWORD = "carebook-bench"

DOCTORS = 2000
PATIENTS_PER_DOCTOR = 5  # a patient only ever sees one doctor, so their visits never overlap
DAYS = 60

CITIES = [
    # city, time zone, latitude, longitude, currency
    ("New York", "America/New_York", 40.71, -74.01, "USD"),
    ("Chicago", "America/Chicago", 41.88, -87.63, "USD"),
    ("Los Angeles", "America/Los_Angeles", 34.05, -118.24, "USD"),
    ("London", "Europe/London", 51.51, -0.13, "GBP"),
    ("Manchester", "Europe/London", 53.48, -2.24, "GBP"),
    ("Berlin", "Europe/Berlin", 52.52, 13.40, "EUR"),
    ("Paris", "Europe/Paris", 48.86, 2.35, "EUR"),
    ("Sydney", "Australia/Sydney", -33.87, 151.21, "AUD"),
    ("Melbourne", "Australia/Melbourne", -37.81, 144.96, "AUD"),
    ("Tokyo", "Asia/Tokyo", 35.68, 139.69, "JPY"),
]
SPECIALTIES = ["Cardiology", "Dermatology", "Pediatrics", "Neurology", "Psychiatry", "Orthopedics"]
FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST_NAMES = ["Smith", "Garcia", "Nguyen", "Okafor", "Rossi", "Schmidt", "Tanaka", "Dubois"]


def _split(url: str) -> tuple[str, str]:
    base, _, name = psycopg_url(url).rpartition("/")
    return base, name


def create_database(reset: bool) -> None:
    base, name = _split(BENCH_URL)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if reset:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def migrate() -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=server_env(), check=True
    )


def password_hash() -> str:
    # argon2-cffi's defaults, as app/services/accounts/accounts.py hashes.
    return PasswordHasher().hash(BENCH_PASSWORD)


def seed_statements() -> list[tuple[str, str, dict]]:
    """(label, SQL, parameters) in order. Times are built clinic-local, stored UTC."""
    cities = ", ".join(
        f"({i}, '{c}', '{tz}', {lat}, {lng}, '{cur}')"
        for i, (c, tz, lat, lng, cur) in enumerate(CITIES)
    )
    return [
        (
            "specialties",
            "INSERT INTO specialties (name, slug) "
            "SELECT n, lower(n) FROM unnest(%(names)s::text[]) AS n",
            {"names": SPECIALTIES},
        ),
        (
            "clinics",
            f"""
            INSERT INTO clinics (name, address, city, latitude, longitude, timezone, currency,
                                 cancellation_window_hours, accepts_cash, created_at, updated_at)
            SELECT city.name || ' Clinic ' || (k + 1), (k + 1) * 10 || ' Main Street',
                   city.name, city.lat + k * 0.03, city.lng - k * 0.03, city.tz, city.cur,
                   (ARRAY[0, 12, 24, 48])[(city.i + k) %% 4 + 1], (city.i + k) %% 5 <> 0,
                   now(), now()
            FROM (VALUES {cities}) AS city (i, name, tz, lat, lng, cur),
                 generate_series(0, 1) AS k
            """,
            {},
        ),
        (
            "users",
            """
            INSERT INTO users (email, name, role, password_hash, must_change_password,
                               is_active, email_verified_at, created_at, updated_at)
            SELECT 'admin@bench.example', 'Bench Admin', 'admin', %(hash)s, false, true,
                   now(), now(), now()
            UNION ALL
            SELECT 'doctor' || n || '@bench.example',
                   'Dr. ' || (%(first)s::text[])[n %% 10 + 1] || ' '
                          || (%(last)s::text[])[n / 10 %% 8 + 1] || ' ' || n,
                   'doctor', %(hash)s, false, n %% 97 <> 0, now(), now(), now()
            FROM generate_series(1, %(doctors)s) AS n
            UNION ALL
            SELECT 'patient' || n || '@bench.example',
                   (%(first)s::text[])[n %% 10 + 1] || ' Patient ' || n,
                   'patient', %(hash)s, false, true, now(), now(), now()
            FROM generate_series(1, %(patients)s) AS n
            """,
            {"first": FIRST_NAMES, "last": LAST_NAMES},
        ),
        (
            "patient profiles",
            """
            INSERT INTO patient_profiles (user_id, created_at, updated_at)
            SELECT id, now(), now() FROM users WHERE role = 'patient'
            """,
            {},
        ),
        (
            "doctors",
            """
            INSERT INTO doctors (user_id, clinic_id, licence_number, fee_amount, fee_currency,
                                 bio, requires_approval, verified_at, created_at, updated_at)
            SELECT u.id, c.id, 'LIC-' || n, 5000 + (n %% 16) * 1000, c.currency,
                   'Seeded for benchmarks.', n %% 10 = 0, now(), now(), now()
            FROM (SELECT id, substring(email from 'doctor(\\d+)@')::int AS n
                  FROM users WHERE role = 'doctor') AS u
            JOIN (SELECT id, currency, row_number() OVER (ORDER BY id) - 1 AS k FROM clinics)
                 AS c ON c.k = u.n %% 20
            """,
            {},
        ),
        (
            "doctor specialties",
            """
            INSERT INTO doctor_specialties (doctor_id, specialty_id)
            SELECT d.id, s.id
            FROM doctors AS d
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM specialties) AS s
              ON s.k = d.id %% 6 OR (d.id %% 4 = 0 AND s.k = (d.id / 6) %% 6)
            ON CONFLICT DO NOTHING
            """,
            {},
        ),
        (
            "slots",
            # 09:00-12:00 (6) and 13:00-16:00/16:30 (6 or 7) clinic-local, from today on.
            """
            INSERT INTO slots (doctor_id, start_at, end_at, mode, status, created_at, updated_at)
            SELECT d.id, t.start_at, t.start_at + interval '30 minutes',
                   CASE WHEN (d.id + i) %% 5 = 0 THEN 'video' ELSE 'in_person' END,
                   CASE WHEN abs(hashint4(d.id * 1000 + day * 20 + i)) %% 50 = 0
                        THEN 'blocked' ELSE 'open' END,
                   now(), now()
            FROM doctors AS d
            JOIN clinics AS c ON c.id = d.clinic_id
            CROSS JOIN generate_series(0, %(days)s - 1) AS day
            CROSS JOIN generate_series(0, 12) AS i
            CROSS JOIN LATERAL (
                SELECT ((current_date + day)::timestamp
                        + CASE WHEN i < 6 THEN interval '9 hours' + i * interval '30 minutes'
                               ELSE interval '13 hours' + (i - 6) * interval '30 minutes' END)
                       AT TIME ZONE c.timezone AS start_at
            ) AS t
            WHERE i < 12 OR d.id %% 2 = 0
            """,
            {"days": DAYS},
        ),
        (
            "active appointments",
            # ~15 %% of open slots; the kind depends on whether the slot is past or to come.
            """
            INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at, ends_at,
                                      hold_expires_at, notes, payment_method, fee_amount,
                                      fee_currency, created_at, updated_at)
            SELECT p.id, s.doctor_id, s.id,
                   CASE WHEN s.start_at < now() THEN
                            CASE WHEN r %% 10 = 0 THEN 'no_show' ELSE 'completed' END
                        WHEN r %% 40 = 1 THEN 'pending_payment'
                        WHEN d.requires_approval AND r %% 3 = 0 THEN 'pending_approval'
                        ELSE 'confirmed' END,
                   s.start_at, s.end_at,
                   CASE WHEN s.start_at >= now() AND r %% 40 = 1 THEN
                            now() + (r %% 3 - 1) * interval '5 minutes' END,
                   CASE WHEN r %% 4 = 0 THEN 'Follow-up visit.' END,
                   CASE WHEN r %% 2 = 0 OR s.start_at < now() THEN 'cash' ELSE 'card' END,
                   d.fee_amount, d.fee_currency, now(), now()
            FROM (SELECT id, doctor_id, start_at, end_at, abs(hashint4(id)) AS r FROM slots
                  WHERE status = 'open') AS s
            JOIN doctors AS d ON d.id = s.doctor_id
            JOIN users AS p ON p.email = 'patient' || (
                (d.id - (SELECT min(id) FROM doctors)) * %(per_doctor)s
                + s.r / 100 %% %(per_doctor)s + 1) || '@bench.example'
            WHERE s.r %% 100 < 15
            """,
            {"per_doctor": PATIENTS_PER_DOCTOR},
        ),
        (
            "cancelled and expired history",
            """
            INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at, ends_at,
                                      hold_expires_at, payment_method, fee_amount, fee_currency,
                                      cancelled_at, cancellation_reason, created_at, updated_at)
            SELECT p.id, s.doctor_id, s.id,
                   CASE WHEN s.r %% 3 = 0 THEN 'expired' ELSE 'cancelled' END,
                   s.start_at, s.end_at,
                   CASE WHEN s.r %% 3 = 0 THEN now() - interval '1 day' END,
                   'card', d.fee_amount, d.fee_currency,
                   CASE WHEN s.r %% 3 <> 0 THEN now() - interval '1 day' END,
                   CASE WHEN s.r %% 3 <> 0 THEN 'cancelled by patient' END,
                   now() - interval '2 days', now() - interval '1 day'
            FROM (SELECT id, doctor_id, start_at, end_at, abs(hashint4(id + 7)) AS r FROM slots)
                 AS s
            JOIN doctors AS d ON d.id = s.doctor_id
            JOIN users AS p ON p.email = 'patient' || (
                (d.id - (SELECT min(id) FROM doctors)) * %(per_doctor)s
                + s.r / 100 %% %(per_doctor)s + 1) || '@bench.example'
            WHERE s.r %% 100 < 5
            """,
            {"per_doctor": PATIENTS_PER_DOCTOR},
        ),
    ]


def seed(conn: psycopg.Connection) -> None:
    common = {
        "hash": password_hash(),
        "doctors": DOCTORS,
        "patients": DOCTORS * PATIENTS_PER_DOCTOR,
    }
    # doctor_free_days is kept by triggers (migration 0023) that recount each statement's
    # days: for a million-row load, counting them all once at the end is far cheaper.
    triggers = conn.execute("SELECT 1 FROM pg_proc WHERE proname = 'carebook_free_days_rebuild'")
    kept = triggers.fetchone() is not None
    if kept:
        conn.execute("ALTER TABLE slots DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE appointments DISABLE TRIGGER USER")
    try:
        for label, sql, params in seed_statements():
            started = time.perf_counter()
            with conn.transaction():
                rows = conn.execute(sql, {**common, **params}).rowcount
            print(f"  {label:<32} {rows:>10,} rows  {time.perf_counter() - started:6.1f} s")
    finally:
        if kept:
            conn.execute("ALTER TABLE slots ENABLE TRIGGER USER")
            conn.execute("ALTER TABLE appointments ENABLE TRIGGER USER")
    if kept:
        started = time.perf_counter()
        conn.execute("SELECT carebook_free_days_rebuild(NULL)")
        rows = conn.execute("SELECT count(*) FROM doctor_free_days").fetchone()[0]
        took = time.perf_counter() - started
        print(f"  {'doctor free days (rebuilt)':<32} {rows:>10,} rows  {took:6.1f} s")


def counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = ["clinics", "doctors", "users", "slots", "appointments"]
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reset", action="store_true", help="drop the database first")
    args = parser.parse_args()
    started = time.perf_counter()
    create_database(args.reset)
    migrate()
    with psycopg.connect(psycopg_url(BENCH_URL), autocommit=True) as conn:
        if counts(conn)["doctors"] >= DOCTORS:
            print("already seeded (use --reset to start again):", counts(conn))
            return
        if counts(conn)["users"]:
            sys.exit("the database has rows but is not fully seeded: run with --reset")
        print(f"seeding {BENCH_URL}")
        seed(conn)
        vacuum = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  {'VACUUM ANALYZE':<32} {'':>10}       {time.perf_counter() - vacuum:6.1f} s")
        active = conn.execute(
            "SELECT count(*) FROM appointments WHERE status IN "
            "('pending_payment', 'pending_approval', 'confirmed', 'completed')"
        ).fetchone()[0]
        print("rows:", counts(conn), f"active appointments: {active:,}")
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
