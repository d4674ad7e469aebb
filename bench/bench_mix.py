"""The mixed load: N simulated patients (locust, headless) browsing, searching, opening doctor
pages, booking and cancelling against gunicorn on the bench database; p50/p95/p99 and errors
per request kind, and each server process's resident memory after the mix.

    .venv/bin/python bench/seed_large.py          # once
    .venv/bin/python bench/bench_mix.py [--users 500] [--spawn-rate 50] [--seconds 90]
                                        [--workers 2] [--worker-class gevent]

The patients are bench_booking.py's (`bench-booker-N@bench.example`, bearer tokens); what
they book is deleted afterwards. The behaviour is bench/locustfile.py.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import psycopg
from bench_booking import bench_patients, clean_up, tokens_for
from bench_http import start_server
from benchlib import psycopg_url

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def doctors_taking_cash(conn: psycopg.Connection, count: int) -> list[tuple[int, int]]:
    return conn.execute(
        """
        SELECT d.id, d.clinic_id FROM doctors AS d
        JOIN users AS u ON u.id = d.user_id JOIN clinics AS c ON c.id = d.clinic_id
        WHERE u.is_active AND c.accepts_cash AND NOT d.requires_approval
        ORDER BY d.id LIMIT %s
        """,
        (count,),
    ).fetchall()


def worker_rss_mb(server: subprocess.Popen) -> list[float]:
    children = psutil.Process(server.pid).children()
    return [round(child.memory_info().rss / 2**20, 1) for child in children]


def print_stats(prefix: str) -> None:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    heads = ("count", "errors", "req/s", "p50", "p95", "p99")
    print(f"{'request':<36} " + " ".join(f"{h:>7}" for h in heads))
    for row in rows:
        name = row["Name"] if row["Type"] else "all"
        print(
            f"{name:<36} {row['Request Count']:>7} {row['Failure Count']:>7} "
            f"{float(row['Requests/s']):>7.1f} {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
        )
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists() and failures.read_text().count("\n") > 1:
        print("\nfailures:\n" + failures.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description="The locust mix against gunicorn.")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--spawn-rate", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=90)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=("gevent", "gthread"), default="gevent")
    parser.add_argument("--threads", type=int, default=16, help="with gthread")
    parser.add_argument(
        "--public-cache-seconds",
        type=float,
        help="the server's PUBLIC_CACHE_SECONDS (default: the app's; 0: every read runs)",
    )
    args = parser.parse_args()

    with psycopg.connect(psycopg_url(), autocommit=True) as conn:
        patient_ids = bench_patients(conn, args.users)
        clean_up(conn, patient_ids)
        doctors = doctors_taking_cash(conn, 200)
    work = Path(tempfile.mkdtemp(prefix="carebook-mix-"))
    (work / "tokens").write_text("\n".join(tokens_for(patient_ids)))
    (work / "doctors").write_text("\n".join(f"{d},{c}" for d, c in doctors))
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()  # past every window
    server, base_url = start_server(argparse.Namespace(**vars(args), redis=None))
    print(
        f"{args.users} users (spawn {args.spawn_rate}/s, think 1-3 s) for {args.seconds} s; "
        f"gunicorn {args.workers} x {args.worker_class}; latencies in ms\n"
    )
    try:
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
             "--run-time", f"{args.seconds}s", "--host", base_url, "--csv", str(work / "mix"),
             "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"],
            env={**os.environ, "MIX_TOKENS": str(work / "tokens"),
                 "MIX_DOCTORS": str(work / "doctors"), "MIX_DAY": day},
            check=False, stdout=subprocess.DEVNULL, stderr=(work / "locust.log").open("w"),
        )  # fmt: skip
        print_stats(str(work / "mix"))
        print(f"(locust's own log: {work / 'locust.log'})")
        print(f"\nresident memory per server process after the mix: {worker_rss_mb(server)} MB")
    finally:
        server.send_signal(signal.SIGQUIT)
        server.wait(timeout=30)
        with psycopg.connect(psycopg_url(), autocommit=True) as conn:
            removed = clean_up(conn, patient_ids)
        print(f"removed {removed} appointments the mix made")


if __name__ == "__main__":
    main()
