"""The hot paths over HTTP, side by side with /healthz in the same run.

Starts gunicorn on the bench database (a port from BENCH_HTTP_PORTS, 5500-5549 by default),
then `--clients` keep-alive clients (threads spread over `--client-processes` processes, so
that the client's own Python is not the ceiling) request each endpoint in turn for
`--seconds`, `--rounds` times over (interleaved, so a machine whose load changes during the
run weighs on every endpoint alike). For each endpoint it prints requests, errors, req/s,
p50/p95/p99 and req/s as a ratio to /healthz of the same run. The clients send
`Accept-Encoding: gzip`, as browsers do.

Endpoints: /healthz (the reference: no database), the doctor listing (GET /api/v1/doctors),
one day's search (available_on), a name search (q), one doctor's slots for a day (the API),
the doctor's page (HTML), and booking (POST /api/v1/appointments, cash, bearer tokens: each
client books its own doctor's free slots; every appointment made is deleted afterwards).

    .venv/bin/python bench/seed_large.py                 # once
    .venv/bin/python bench/bench_http.py                 # gevent, 1 worker (as `make run`)
    .venv/bin/python bench/bench_http.py --worker-class gevent --workers 2
    .venv/bin/python bench/bench_http.py --worker-class gthread --workers 2 --threads 8
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import requests
from bench_booking import bench_patients, clean_up, free_slots, tokens_for
from benchlib import ROOT, UNGUARDED, percentile, psycopg_url, server_env

PORTS = os.environ.get("BENCH_HTTP_PORTS", "5500-5549")
# The server's Redis, as in production: notifications and jobs are queued there (no worker
# takes them; the database is emptied afterwards) instead of being sent inside the request.
REDIS = os.environ.get("BENCH_HTTP_REDIS", "redis://127.0.0.1:6379/7")


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    low, high = (int(p) for p in PORTS.split("-"))
    for port in range(low, high + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    sys.exit(f"no free port in {PORTS}")


def start_server(args) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--worker-class", args.worker_class,
        "--log-level", "warning", "--no-control-socket",
    ]  # fmt: skip
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    if args.worker_class == "gevent":
        command += ["--worker-connections", "1000"]
    env = {**server_env(), **UNGUARDED}
    if args.redis:
        env["REDIS_URL"] = args.redis
    if args.public_cache_seconds is not None:
        env["PUBLIC_CACHE_SECONDS"] = str(args.public_cache_seconds)
    process = subprocess.Popen([*command, "wsgi:app"], cwd=ROOT, env=env)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return process, base_url
        except requests.RequestException:
            time.sleep(0.3)
    process.kill()
    sys.exit("the server did not start")


# --- the clients ------------------------------------------------------------------------------


def request_for(endpoint: dict, client: dict, n: int) -> tuple[str, str, dict | None]:
    if endpoint["method"] == "POST":
        slots = client["slots"]
        slot_id = slots[client["next_slot"] % len(slots)]
        client["next_slot"] += 1
        return (
            "POST",
            endpoint["path"],
            {"slot_id": slot_id, "payment_method": "cash", "acknowledge_policy": True},
        )
    return "GET", endpoint["path"], None


def _client(endpoint: dict, until: tuple[float, float], client: dict, session, sink) -> None:
    """One client: requests `endpoint` from until[0] to until[1] (time.time()), one at a
    time; (latency, status) of each go to `sink`."""
    headers = {} if endpoint.get("auth") else {"Authorization": None}  # anonymous
    start_at, deadline = until
    while time.time() < start_at:
        time.sleep(0.001)
    n = 0
    while time.time() < deadline:
        method, path, body = request_for(endpoint, client, n)
        started = time.perf_counter()
        try:
            status = session.request(
                method, session.base_url + path, json=body, headers=headers, timeout=60
            ).status_code
        except requests.RequestException:
            status = "error"
        sink(time.perf_counter() - started, status)
        n += 1


def client_process(connection, base_url: str, clients: list[dict]) -> None:
    """Runs `clients` threads; for each command (endpoint, seconds, start) it answers with
    (latencies, statuses)."""
    sessions = []
    for client in clients:
        session = requests.Session()
        session.base_url = base_url
        session.headers["Accept-Encoding"] = "gzip"
        if client.get("token"):
            session.headers["Authorization"] = f"Bearer {client['token']}"
        sessions.append(session)
    while True:
        command = connection.recv()
        if command is None:
            return
        endpoint, seconds, start_at = command
        latencies: list[float] = []
        statuses: Counter = Counter()
        lock = threading.Lock()

        def sink(latency, status, latencies=latencies, statuses=statuses, lock=lock):
            with lock:
                latencies.append(latency)
                statuses[status] += 1

        threads = [
            threading.Thread(
                target=_client,
                args=(endpoint, (start_at, start_at + seconds), client, session, sink),
            )
            for client, session in zip(clients, sessions, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        connection.send((latencies, statuses))


def endpoints(conn: psycopg.Connection, day) -> list[dict]:
    doctor_id = conn.execute(
        "SELECT d.id FROM doctors AS d JOIN users AS u ON u.id = d.user_id"
        " WHERE u.is_active ORDER BY d.id OFFSET 1000 LIMIT 1"
    ).fetchone()[0]
    after = day + timedelta(days=1)
    return [
        {"name": "/healthz (reference)", "method": "GET", "path": "/healthz"},
        {"name": "listing: GET /api/v1/doctors", "method": "GET", "path": "/api/v1/doctors"},
        {
            "name": "search: available_on (a day)",
            "method": "GET",
            "path": f"/api/v1/doctors?available_on={day}",
        },
        {"name": "search: q (name)", "method": "GET", "path": "/api/v1/doctors?q=garcia"},
        {
            "name": "one day's slots (API)",
            "method": "GET",
            "path": f"/api/v1/doctors/{doctor_id}/slots?from={day}&to={after}",
        },
        {"name": "doctor page (HTML)", "method": "GET", "path": f"/doctors/{doctor_id}"},
        {
            "name": "booking: POST /api/v1/appointments",
            "method": "POST",
            "path": "/api/v1/appointments",
            "auth": True,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Hot paths over HTTP, beside /healthz.")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker-class", default="gevent", choices=("gevent", "gthread", "sync"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8, help="with gthread")
    parser.add_argument("--only", help="measure only endpoints whose name contains this")
    parser.add_argument(
        "--public-cache-seconds",
        type=float,
        help="the server's PUBLIC_CACHE_SECONDS (default: the app's; 0: every read runs)",
    )
    parser.add_argument(
        "--redis", default=REDIS, help="the server's REDIS_URL, emptied afterwards ('' for none)"
    )
    args = parser.parse_args()

    day = (datetime.now(UTC) + timedelta(days=3)).date()
    booking_slots = int(args.seconds * args.rounds * 10) + 50  # per client: plenty
    with psycopg.connect(psycopg_url(), autocommit=True) as conn:
        patient_ids = bench_patients(conn, args.clients)
        clean_up(conn, patient_ids)  # an interrupted run's
        plan = free_slots(conn, args.clients, booking_slots)
        measured = endpoints(conn, day)
    if args.only:
        measured = [
            e for e in measured if e["name"].startswith("/healthz") or args.only in e["name"]
        ]
    tokens = tokens_for(patient_ids)
    clients = [
        {"token": tokens[i], "slots": [s[0] for s in plan[i]], "next_slot": 0}
        for i in range(args.clients)
    ]

    process, base_url = start_server(args)
    workers = []
    try:
        for p in range(args.client_processes):
            parent, child = multiprocessing.Pipe()
            mine = clients[p :: args.client_processes]
            worker = multiprocessing.Process(
                target=client_process, args=(child, base_url, mine), daemon=True
            )
            worker.start()
            workers.append((worker, parent))
        results = {e["name"]: ([], Counter(), 0.0) for e in measured}
        for _ in range(args.rounds):
            for endpoint in measured:
                start_at = time.time() + 0.5
                for _worker, pipe in workers:
                    pipe.send((endpoint, args.seconds, start_at))
                latencies, statuses, wall = results[endpoint["name"]]
                for _worker, pipe in workers:
                    got_latencies, got_statuses = pipe.recv()
                    latencies.extend(got_latencies)
                    statuses.update(got_statuses)
                results[endpoint["name"]] = (latencies, statuses, wall + args.seconds)
        report(args, results, measured)
    finally:
        for worker, pipe in workers:
            pipe.send(None)
            worker.join(timeout=10)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        with psycopg.connect(psycopg_url(), autocommit=True) as conn:
            clean_up(conn, patient_ids)
        if args.redis:
            import redis

            redis.Redis.from_url(args.redis).flushdb()  # the jobs and notices queued


def report(args, results: dict, measured: list[dict]) -> None:
    print(
        f"\ngunicorn -k {args.worker_class} --workers {args.workers}"
        + (f" --threads {args.threads}" if args.worker_class == "gthread" else "")
        + (
            f"; PUBLIC_CACHE_SECONDS={args.public_cache_seconds:g}"
            if args.public_cache_seconds is not None
            else ""
        )
        + f"; {args.clients} clients ({args.client_processes} processes); "
        f"{args.rounds} rounds x {args.seconds:g} s per endpoint; load average "
        f"{os.getloadavg()[0]:.1f} at the end (`uptime`)\n"
    )
    print(
        f"{'endpoint':<38} {'requests':>8} {'non-2xx':>7} {'req/s':>8} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'x healthz':>9}"
    )
    reference = None
    for endpoint in measured:
        latencies, statuses, wall = results[endpoint["name"]]
        values = sorted(v * 1000 for v in latencies)
        rate = len(values) / wall if wall else 0.0
        if reference is None:
            reference = rate
        bad = sum(n for status, n in statuses.items() if not (isinstance(status, int) and
                                                             200 <= status < 300))  # fmt: skip
        others = {s: n for s, n in statuses.items() if not (isinstance(s, int) and s < 300)}
        print(
            f"{endpoint['name']:<38} {len(values):>8} {bad:>7} {rate:>8.1f} "
            f"{percentile(values, 50):>7.1f} {percentile(values, 95):>7.1f} "
            f"{percentile(values, 99):>7.1f} {rate / reference:>9.2f}"
            + (f"  {others}" if others else "")
        )


if __name__ == "__main__":
    main()
