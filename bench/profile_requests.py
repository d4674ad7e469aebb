"""Where a request's time goes: the SQL statements it sends, and a pyinstrument profile.

Runs each path through the app's test client on the bench database (in this process: no
server, no network), once to list the statements it sends (and which of them are lazy loads
of a relationship), then `--runs` times under pyinstrument.

    .venv/bin/python bench/profile_requests.py                      # the hot read paths
    .venv/bin/python bench/profile_requests.py /api/v1/doctors?q=garcia --runs 200
    .venv/bin/python bench/profile_requests.py --html /tmp/profile.html   # pyinstrument's view
    .venv/bin/python bench/profile_requests.py --book 100   # booking: POST /api/v1/appointments

A server under load is profiled from outside instead, with py-spy (bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta

from benchlib import bench_app, captured_statements


def default_paths(db) -> list[str]:
    from app.models import Doctor, User

    doctor_id = db.session.scalar(
        db.select(Doctor.id).join(User, User.id == Doctor.user_id).where(User.is_active)
        .order_by(Doctor.id).offset(1000).limit(1)
    )  # fmt: skip
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    after = (day + timedelta(days=1)).isoformat()
    day = day.isoformat()
    return [
        "/healthz",
        "/api/v1/doctors",
        f"/api/v1/doctors?available_on={day}",
        "/api/v1/doctors?q=garcia",
        f"/api/v1/doctors/{doctor_id}",
        f"/api/v1/doctors/{doctor_id}/slots?from={day}&to={after}",
        f"/api/v1/doctors/{doctor_id}/slots",
        "/api/v1/specialties",
        "/api/v1/clinics",
        f"/doctors?available_on={day}",
        f"/doctors/{doctor_id}",
    ]


def print_statements(statements, *, full: bool) -> None:
    for statement, _params in statements:
        print("   ", " ".join(statement.split())[: 1000 if full else 110])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="paths to request (default: the hot reads)")
    parser.add_argument("--runs", type=int, default=50, help="profiled requests per path")
    parser.add_argument("--html", help="also write pyinstrument's HTML view of each path here")
    parser.add_argument("--sql", action="store_true", help="print every statement's text")
    parser.add_argument(
        "--book", type=int, metavar="N",
        help="profile N bookings (POST /api/v1/appointments, cash, bench_booking's patient and "
        "slots; deleted afterwards) instead of the reads",
    )  # fmt: skip
    parser.add_argument(
        "--redis", default="",
        help="with --book: the app's REDIS_URL, so that notices are queued as in production "
        "(emptied afterwards); without it they are delivered in the request, as `make run` does",
    )  # fmt: skip
    args = parser.parse_args()
    if args.book:
        profile_booking(args)
        return

    from pyinstrument import Profiler
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app.extensions import db

    app = bench_app(PUBLIC_CACHE_SECONDS=0)  # the work itself, not the answer cache
    with app.app_context():
        paths = args.paths or default_paths(db)
        db.session.remove()
    client = app.test_client()

    lazy: list[str] = []

    @event.listens_for(Session, "do_orm_execute")
    def _lazy(state):
        if state.is_relationship_load:
            lazy.append(str(state.statement).split("\n", 1)[0][:100])

    for path in paths:
        for _ in range(3):  # warm up: first requests compile templates and statements
            client.get(path)
        lazy.clear()
        with app.app_context(), captured_statements(db.engine) as statements:
            response = client.get(path)
        loads = list(lazy)
        started = time.perf_counter()
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.runs):
            client.get(path)
        profiler.stop()
        mean = (time.perf_counter() - started) / args.runs * 1000
        print(f"\n=== GET {path}: {response.status_code}, {len(response.data):,} bytes, "
              f"{len(statements)} statements ({len(loads)} relationship loads), "
              f"{mean:.1f} ms a request (profiled)")  # fmt: skip
        print_statements(statements, full=args.sql)
        for line in loads:
            print("    relationship load:", line)
        print(profiler.output_text(unicode=False, color=False, show_all=False))
        if args.html:
            with open(args.html.replace(".html", f"-{len(paths) and paths.index(path)}.html"),
                      "w") as out:  # fmt: skip
                out.write(profiler.output_html())
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def profile_booking(args) -> None:
    """`args.book` bookings of one patient, each a different free slot of one doctor, through
    the test client (as bench_booking books over HTTP: bearer token, cash), without rate limits
    or booking caps; the first three are the warm-up, the fourth's statements are listed."""
    import psycopg
    from bench_booking import bench_patients, clean_up, free_slots, tokens_for
    from benchlib import UNGUARDED, psycopg_url
    from pyinstrument import Profiler

    from app.extensions import db

    conn = psycopg.connect(psycopg_url(), autocommit=True)
    (patient_id,) = bench_patients(conn, 1)
    clean_up(conn, [patient_id])
    (slots,) = free_slots(conn, 1, args.book + 4)
    if len(slots) < args.book + 4:
        raise SystemExit(f"only {len(slots)} free slots for the booking doctor")
    os.environ.update(UNGUARDED)  # read by the app's config, as the servers of the benches do
    app = bench_app(REDIS_URL=args.redis or None)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens_for([patient_id])[0]}"}

    def book(slot) -> int:
        response = client.post(
            "/api/v1/appointments", headers=headers,
            json={"slot_id": slot[0], "payment_method": "cash", "acknowledge_policy": True},
        )  # fmt: skip
        assert response.status_code == 201, response.get_data(as_text=True)
        return len(response.data)

    try:
        for slot in slots[:3]:
            book(slot)
        with app.app_context(), captured_statements(db.engine, many=True) as statements:
            size = book(slots[3])
        started = time.perf_counter()
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for slot in slots[4:]:
            book(slot)
        profiler.stop()
        mean = (time.perf_counter() - started) / args.book * 1000
        for _ in range(20):
            client.get("/healthz")
        started = time.perf_counter()
        for _ in range(args.book):
            client.get("/healthz")
        floor = (time.perf_counter() - started) / args.book * 1000
        print(f"\n=== POST /api/v1/appointments: 201, {size:,} bytes, {len(statements)} "
              f"statements, {mean:.1f} ms a booking (profiled), {mean / floor:.1f} x "
              f"GET /healthz ({floor:.2f} ms, not profiled, same process)")  # fmt: skip
        print_statements(statements, full=args.sql)
        print(profiler.output_text(unicode=False, color=False, show_all=False))
        if args.html:
            with open(args.html, "w") as out:
                out.write(profiler.output_html())
    finally:
        print(f"deleted {clean_up(conn, [patient_id])} appointment(s)")
        if args.redis:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
        conn.close()
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


if __name__ == "__main__":
    main()
