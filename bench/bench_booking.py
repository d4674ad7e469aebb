"""Booking throughput: the HTTP API (gunicorn) beside the same INSERT straight through psycopg.

On the seeded bench database, N client threads book:
  * distinct slots: every request a different free slot (each thread books its own doctor's
    slots, so its patient never overlaps itself): all 201;
  * one contended slot: every request the same slot: one 201, the rest 409.
Over HTTP that is `POST /api/v1/appointments` (bearer token, cash) to gunicorn
(--workers 2 --threads 16 by default); directly it is one INSERT INTO appointments per
transaction, relying on the partial unique index (UniqueViolation counts as the 409). The
ratio of the two is the framework's share: auth, the service's checks, ORM, JSON, HTTP.
Every appointment it makes is deleted afterwards (with its audit rows and notifications).

    .venv/bin/python bench/seed_large.py          # once
    .venv/bin/python bench/bench_booking.py [--clients 16] [--per-client 25] [--contended 200]
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

import psycopg
import requests
from benchlib import BENCH_SECRET_KEY, ROOT, UNGUARDED, psycopg_url, server_env, summary_ms

PATIENT_EMAIL = "bench-booker-{}@bench.example"


@dataclass
class Outcome:
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0

    def row(self, scenario: str, transport: str, clients: int) -> str:
        total = sum(self.statuses.values())
        s = summary_ms(self.latencies)
        other = total - self.statuses[201] - self.statuses[409]
        others = {k: v for k, v in self.statuses.items() if k not in (201, 409)}
        return (
            f"{scenario:<10} {transport:<7} {total:>6} {clients:>7} {self.statuses[201]:>6} "
            f"{self.statuses[409]:>6} {other:>6} {total / self.wall:>8.1f} {s['p50']:>7.1f} "
            f"{s['p95']:>7.1f} {s['p99']:>7.1f}" + (f"  other: {others}" if others else "")
        )


# --- data ------------------------------------------------------------------------------------


def bench_patients(conn: psycopg.Connection, count: int) -> list[int]:
    """Get or create the booking patients (ids in client order)."""
    with conn.transaction():
        for i in range(count):
            conn.execute(
                "INSERT INTO users (email, name, role, must_change_password, is_active, "
                "email_verified_at, created_at, updated_at) "
                "VALUES (%s, %s, 'patient', false, true, now(), now(), now()) "
                "ON CONFLICT (email) DO UPDATE SET email_verified_at = now()",
                (PATIENT_EMAIL.format(i), f"Bench Booker {i}"),
            )
        conn.execute(
            "INSERT INTO patient_profiles (user_id, created_at, updated_at) "
            "SELECT id, now(), now() FROM users WHERE email LIKE 'bench-booker-%%' "
            "ON CONFLICT (user_id) DO NOTHING"
        )
    emails = [PATIENT_EMAIL.format(i) for i in range(count)]
    ids = dict(conn.execute("SELECT email, id FROM users WHERE email = ANY(%s)", (emails,)))
    return [ids[e] for e in emails]


def free_slots(conn: psycopg.Connection, clients: int, per_client: int) -> list[list[tuple]]:
    """For each client, `per_client` free slots of its own doctor (an active doctor whose
    clinic takes cash), from tomorrow on, as (id, doctor_id, start, end, fee, currency)."""
    doctors = conn.execute(
        """
        SELECT d.id FROM doctors AS d
        JOIN users AS u ON u.id = d.user_id JOIN clinics AS c ON c.id = d.clinic_id
        WHERE u.is_active AND c.accepts_cash ORDER BY d.id LIMIT %s OFFSET 500
        """,
        (clients,),
    ).fetchall()
    plan = []
    for (doctor_id,) in doctors:
        plan.append(
            conn.execute(
                """
                SELECT s.id, s.doctor_id, s.start_at, s.end_at, d.fee_amount, d.fee_currency
                FROM slots AS s JOIN doctors AS d ON d.id = s.doctor_id
                WHERE s.doctor_id = %s AND s.status = 'open'
                  AND s.start_at > now() + interval '1 day'
                  AND NOT EXISTS (SELECT 1 FROM appointments AS a WHERE a.slot_id = s.id
                      AND a.status IN ('pending_payment', 'pending_approval', 'confirmed',
                                       'completed')
                      AND (a.status <> 'pending_payment' OR a.hold_expires_at > now()))
                ORDER BY s.start_at LIMIT %s
                """,
                (doctor_id, per_client),
            ).fetchall()
        )
    return plan


def clean_up(conn: psycopg.Connection, patient_ids: list[int]) -> int:
    with conn.transaction():
        conn.execute("DELETE FROM audit_log WHERE actor_id = ANY(%s)", (patient_ids,))
        conn.execute("DELETE FROM notifications WHERE user_id = ANY(%s)", (patient_ids,))
        return conn.execute(
            "DELETE FROM appointments WHERE patient_id = ANY(%s)", (patient_ids,)
        ).rowcount


# --- runners -------------------------------------------------------------------------------


def run_threads(work: list[list], send) -> Outcome:
    """One thread per list in `work`, released together; `send(worker, item)` -> status."""
    outcome = Outcome()
    lock = threading.Lock()
    barrier = threading.Barrier(len(work) + 1)

    def client(index: int) -> None:
        with send.session(index) as worker:
            barrier.wait()
            for item in work[index]:
                started = time.perf_counter()
                status = send(worker, item)
                elapsed = time.perf_counter() - started
                with lock:
                    outcome.statuses[status] += 1
                    outcome.latencies.append(elapsed)

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        futures = [pool.submit(client, i) for i in range(len(work))]
        barrier.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        outcome.wall = time.perf_counter() - started
    return outcome


class HttpBooking:
    """POST /api/v1/appointments with client i's token, over a keep-alive session."""

    def __init__(self, base_url: str, tokens: list[str]):
        self.base_url, self.tokens = base_url, tokens

    def session(self, index: int):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.tokens[index]}"
        return session

    def __call__(self, session: requests.Session, slot: tuple) -> int:
        response = session.post(
            f"{self.base_url}/api/v1/appointments",
            json={"slot_id": slot[0], "payment_method": "cash", "acknowledge_policy": True},
            timeout=120,
        )
        return response.status_code


class SqlBooking:
    """The same claim as one INSERT per transaction; the partial unique index decides."""

    def __init__(self, patient_ids: list[int]):
        self.patient_ids = patient_ids

    @contextmanager
    def session(self, index: int):
        with psycopg.connect(psycopg_url()) as conn:
            yield conn, self.patient_ids[index]

    def __call__(self, worker: tuple[psycopg.Connection, int], slot: tuple) -> int:
        conn, patient_id = worker
        slot_id, doctor_id, start, end, fee, currency = slot
        try:
            with conn.transaction():
                conn.execute(
                    """
                    INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at,
                        ends_at, payment_method, fee_amount, fee_currency, created_at,
                        updated_at)
                    VALUES (%s, %s, %s, 'confirmed', %s, %s, 'cash', %s, %s, now(), now())
                    RETURNING id
                    """,
                    (patient_id, doctor_id, slot_id, start, end, fee, currency),
                ).fetchone()
            return 201
        except psycopg.errors.UniqueViolation:
            return 409


# --- the server ----------------------------------------------------------------------------


def start_server(workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--log-level", "warning",
         "--no-control-socket", "wsgi:app"],
        cwd=ROOT,
        env={**server_env(), **UNGUARDED},
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return process, base_url
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    sys.exit("the server did not start")


def tokens_for(patient_ids: list[int]) -> list[str]:
    """Bearer tokens for the bench patients (their token version is the first, 0: nothing
    here signs them out or changes their password)."""
    from app.services.accounts.tokens import issue_token

    now = datetime.now(UTC)
    return [
        issue_token(
            SimpleNamespace(id=i, token_version=0),
            secret_key=BENCH_SECRET_KEY,
            ttl_seconds=3600,
            now=now,
        )
        for i in patient_ids
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Booking throughput, HTTP against SQL.")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads")
    parser.add_argument("--per-client", type=int, default=25, help="distinct slots per client")
    parser.add_argument("--contended", type=int, default=200, help="requests on one slot")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    with psycopg.connect(psycopg_url(), autocommit=True) as conn:
        patient_ids = bench_patients(conn, args.clients)
        clean_up(conn, patient_ids)  # a run that was interrupted
        plan = free_slots(conn, args.clients, args.per_client + 1)
        distinct = [slots[:-1] for slots in plan]
        contended_slot = plan[0][-1]
        per_thread = max(1, args.contended // args.clients)
        contended = [[contended_slot] * per_thread for _ in range(args.clients)]
        slots = conn.execute("SELECT count(*) FROM slots").fetchone()[0]
        appointments = conn.execute("SELECT count(*) FROM appointments").fetchone()[0]

    print(
        f"{slots:,} slots, {appointments:,} appointments; {args.clients} clients; gunicorn "
        f"--workers {args.workers} --threads {args.threads}; latencies in ms\n"
    )
    header = (
        f"{'scenario':<10} {'via':<7} {'reqs':>6} {'clients':>7} {'201':>6} {'409':>6} "
        f"{'other':>6} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7}"
    )
    print(header)
    process, base_url = start_server(args.workers, args.threads)
    http, sql = HttpBooking(base_url, tokens_for(patient_ids)), SqlBooking(patient_ids)
    try:
        for scenario, work in (("distinct", distinct), ("contended", contended)):
            for transport, send in (("http", http), ("sql", sql)):
                outcome = run_threads(work, send)
                print(outcome.row(scenario, transport, args.clients), flush=True)
                with psycopg.connect(psycopg_url(), autocommit=True) as conn:
                    clean_up(conn, patient_ids)
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=30)
        with psycopg.connect(psycopg_url(), autocommit=True) as conn:
            clean_up(conn, patient_ids)


if __name__ == "__main__":
    main()
