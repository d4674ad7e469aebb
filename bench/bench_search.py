"""Doctor search and slot listing on the seeded bench database: latency and query plans.

Calls app.services.search (search_doctors, slot_listing) in an app context, as a request
would, N times per case (a fresh session each time), and prints mean/p50/p95/p99/max in ms.
Then EXPLAIN (ANALYZE, BUFFERS) of every statement one run of each case sends that reads
slots or appointments: execution time, buffers, and how those tables are read.

    .venv/bin/python bench/seed_large.py          # once
    .venv/bin/python bench/bench_search.py [--runs 50] [--plans]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from benchlib import WATCHED, access_paths, bench_app, captured_statements, summary_ms

# The plans printed: statements that read these (the doctors' free days and the accounts
# that name search reads, beside slots and appointments).
SHOWN = (*WATCHED, "doctor_free_days", "users")


def cases(db, now: datetime) -> dict:
    from app.models import Clinic, Doctor, User
    from app.services.scheduling.search import DoctorSearch, search_doctors, slot_listing

    london = db.session.scalars(db.select(Clinic).where(Clinic.city == "London")).first()
    doctor_id = db.session.scalar(
        db.select(Doctor.id).join(User, User.id == Doctor.user_id).where(User.is_active)
        .order_by(Doctor.id).offset(1000).limit(1)
    )  # fmt: skip
    day = (now + timedelta(days=3)).date()

    def search(**criteria):
        return lambda: search_doctors(DoctorSearch(**criteria), now=now).total

    def listing(available_only: bool):
        return lambda: len(
            slot_listing(
                doctor_id=doctor_id,
                start=now,
                end=now + timedelta(days=14),
                available_only=available_only,
                now=now,
            )
        )

    def reference():
        return db.session.execute(db.text("SELECT 1")).scalar()

    return {
        "reference: SELECT 1 (same session)": reference,
        "search: no filter": search(),
        "search: specialty": search(specialty="cardiology"),
        "search: city": search(city="London"),
        "search: q (name)": search(q="garcia"),
        "search: near+radius 50 km": search(near=(london.latitude, london.longitude), radius_km=50),
        "search: available_on": search(available_on=day),
        "search: available_on today (NY)": search(
            available_on=now.astimezone(ZoneInfo("America/New_York")).date()
        ),
        "search: specialty+city+available_on": search(
            specialty="dermatology", city="Berlin", available_on=day
        ),
        "search: page 5 of no filter": search(page=5),
        "listing: 14 days, all": listing(False),
        "listing: 14 days, free only": listing(True),
    }


def time_cases(app, db, runs: int) -> None:
    print(
        f"{'case':<38} {'rows':>6} {'mean':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
        f" {'p95/ref':>8}"
    )
    reference_p95 = None
    with app.app_context():
        names = list(cases(db, datetime.now(UTC)))
    for name in names:
        durations, result = [], None
        for run in range(runs + 3):  # three warm-up runs, not counted
            with app.app_context():
                call = cases(db, datetime.now(UTC))[name]
                started = time.perf_counter()
                result = call()
                elapsed = time.perf_counter() - started
                db.session.remove()
            if run >= 3:
                durations.append(elapsed)
        s = summary_ms(durations)
        if reference_p95 is None:
            reference_p95 = s["p95"]  # the first case: a round trip that reads nothing
        print(
            f"{name:<38} {result:>6} {s['mean']:>8.2f} {s['p50']:>8.2f} {s['p95']:>8.2f} "
            f"{s['p99']:>8.2f} {s['max']:>8.2f} {s['p95'] / reference_p95:>8.1f}"
        )


def explain_cases(app, db, full: bool) -> None:
    print(
        "\nEXPLAIN (ANALYZE, BUFFERS) of the statements that read slots, appointments, "
        "doctor_free_days or users (NOT INDEX-DRIVEN: slots or appointments read whole)"
    )
    with app.app_context():
        for name, call in cases(db, datetime.now(UTC)).items():
            if name.startswith("reference"):
                continue
            with captured_statements(db.engine) as statements:
                call()
            db.session.remove()
            with db.engine.connect() as conn:
                for statement, parameters in statements:
                    if not any(t in statement for t in SHOWN):
                        continue
                    (explained,) = conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters or {}
                    ).one()
                    plan = explained[0]["Plan"]
                    kind = "count" if statement.startswith("SELECT count(*)") else "page"
                    paths = sorted(set(access_paths(plan, SHOWN)))
                    seq = [
                        p
                        for p in access_paths(plan)  # slots and appointments only
                        if "Seq Scan" in p or "whole index" in p
                    ]
                    print(
                        f"  {name:<38} {kind:<5} {explained[0]['Execution Time']:>8.2f} ms  "
                        f"buffers hit={plan.get('Shared Hit Blocks', 0)} "
                        f"read={plan.get('Shared Read Blocks', 0)}  "
                        f"{'NOT INDEX-DRIVEN: ' if seq else 'index-driven: '}{'; '.join(paths)}"
                    )
                    if full:
                        text = conn.exec_driver_sql(
                            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or {}
                        )
                        print("\n".join("      " + row[0] for row in text))


def main() -> None:
    parser = argparse.ArgumentParser(description="Doctor search and slot listing latency.")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per case")
    parser.add_argument("--plans", action="store_true", help="print the full plans too")
    args = parser.parse_args()

    from app.extensions import db

    app = bench_app()
    with app.app_context():
        slots = db.session.execute(db.text("SELECT count(*) FROM slots")).scalar()
        appointments = db.session.execute(db.text("SELECT count(*) FROM appointments")).scalar()
        db.session.remove()
    print(f"{slots:,} slots, {appointments:,} appointments; {args.runs} runs per case, ms\n")
    try:
        time_cases(app, db, args.runs)
        explain_cases(app, db, args.plans)
    finally:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


if __name__ == "__main__":
    main()
