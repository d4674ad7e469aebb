"""Where a request's time goes: the SQL statements it sends, and a pyinstrument profile.

Runs each path through the app's test client on the bench database (in this process: no
server, no network), once to list the statements it sends (and which of them are lazy loads
of a relationship), then `--runs` times under pyinstrument.

    .venv/bin/python bench/profile_requests.py                      # the hot read paths
    .venv/bin/python bench/profile_requests.py /api/v1/doctors?q=garcia --runs 200
    .venv/bin/python bench/profile_requests.py --html /tmp/profile.html   # pyinstrument's view

A server under load is profiled from outside instead, with py-spy (bench/README.md).
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="paths to request (default: the hot reads)")
    parser.add_argument("--runs", type=int, default=50, help="profiled requests per path")
    parser.add_argument("--html", help="also write pyinstrument's HTML view of each path here")
    parser.add_argument("--sql", action="store_true", help="print every statement's text")
    args = parser.parse_args()

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
        for statement, _params in statements:
            print("   ", " ".join(statement.split())[: 1000 if args.sql else 110])
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


if __name__ == "__main__":
    main()
