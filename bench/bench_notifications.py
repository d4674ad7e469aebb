"""20,000 reminder emails through RQ into a local SMTP sink: rate and duplicates.

Makes its own database (`carebook_bench_notify` beside BENCH_DATABASE_URL, migrated and
seeded with N confirmed visits whose day-before reminder is due), starts an aiosmtpd sink in
this process and `--workers` RQ workers (`python -m workers worker`) on REDIS_URL (default
redis://127.0.0.1:6379/14, flushed first), then runs one reminder sweep and waits until every
mail has arrived. Prints the sweep's time (writing the outbox rows and enqueueing), the
delivery rate from the end of the sweep to the last mail, end-to-end mails/s, and the
duplicates (mails received minus distinct Message-IDs).

    .venv/bin/python bench/bench_notifications.py            # --mails 20000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
from aiosmtpd.controller import Controller
from benchlib import BENCH_SECRET_KEY, ROOT, psycopg_url
from redis import Redis

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


class Sink:
    """Counts what arrives: mails and their distinct Message-IDs."""

    def __init__(self):
        self.count = 0
        self.ids: set[str] = set()
        self.first = self.last = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        content = envelope.content
        start = content.find(b"Message-ID:")
        message_id = content[start : content.find(b"\r\n", start)] if start >= 0 else b""
        with self.lock:
            self.count += 1
            self.ids.add(message_id.decode())
            self.last = time.monotonic()
            self.first = self.first or self.last
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtp_alone(port: int, sink: Sink, *, lanes: int, count: int) -> float:
    """The ceiling the sink and the loopback allow: pre-built mails over `lanes` persistent
    connections, nothing else. Mails/s."""
    raw = (
        b"From: bench@carebook.example\r\nTo: x@bench.example\r\nSubject: Reminder: ref\r\n"
        b"Message-ID: <ref@bench>\r\n\r\n" + b"A reminder body line.\r\n" * 40
    )

    def lane(n: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            for _ in range(n):
                client.sendmail("bench@carebook.example", ["x@bench.example"], raw)

    threads = [threading.Thread(target=lane, args=(count // lanes,)) for _ in range(lanes)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (count // lanes * lanes) / (time.monotonic() - started)


def database_url() -> str:
    base, _, _ = psycopg_url().rpartition("/")
    return f"{base}/carebook_bench_notify"


def fresh_database(url: str) -> None:
    admin = url.rpartition("/")[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS carebook_bench_notify WITH (FORCE)")
        conn.execute("CREATE DATABASE carebook_bench_notify")
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SECRET_KEY": BENCH_SECRET_KEY}
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
        capture_output=True,
    )  # fmt: skip


def seed(url: str, visits: int, now: datetime) -> None:
    """Doctors with a 10-minute visit after another, each patient one visit, all booked two
    days ago; the visits start 18 to 24 h from now, so their day-before reminder is due (and
    not yet too late: a quarter of the offset, 6 h)."""
    per_doctor = 35
    doctors = -(-visits // per_doctor)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO clinics (name, city, timezone, currency, cancellation_window_hours,"
            " accepts_cash, reminder_offsets, created_at, updated_at) VALUES ('Bench clinic',"
            " 'Berlin', 'Europe/Berlin', 'EUR', 24, true, '[1440, 120]', now(), now())"
        )
        conn.execute(
            "INSERT INTO users (email, name, role, is_active, must_change_password,"
            " token_version, created_at, updated_at, email_verified_at)"
            " SELECT 'doctor' || i || '@bench.example', 'Dr. Bench ' || i, 'doctor', true,"
            " false, 0, now(), now(), now() FROM generate_series(1, %s) i",
            (doctors,),
        )
        conn.execute(
            "INSERT INTO doctors (user_id, clinic_id, fee_amount, fee_currency,"
            " requires_approval, created_at, updated_at)"
            " SELECT id, 1, 5000, 'EUR', false, now(), now() FROM users WHERE role = 'doctor'"
        )
        conn.execute(
            "INSERT INTO users (email, name, role, is_active, must_change_password,"
            " token_version, created_at, updated_at, email_verified_at)"
            " SELECT 'patient' || i || '@bench.example', 'Patient ' || i, 'patient', true,"
            " false, 0, now(), now(), now() FROM generate_series(1, %s) i",
            (visits,),
        )
        first = now + timedelta(hours=18, minutes=5)
        conn.execute(
            "INSERT INTO slots (doctor_id, start_at, end_at, mode, status, created_at,"
            " updated_at)"
            " SELECT d.id, %(first)s + (s * interval '10 minutes'),"
            " %(first)s + (s * interval '10 minutes') + interval '10 minutes',"
            " 'in_person', 'open', now(), now()"
            " FROM generate_series(0, %(per)s - 1) s CROSS JOIN doctors d",
            {"first": first, "per": per_doctor},
        )
        conn.execute(
            "INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at,"
            " ends_at, payment_method, fee_amount, fee_currency, created_at, updated_at)"
            " SELECT p.id, s.doctor_id, s.id, 'confirmed', s.start_at, s.end_at, 'cash', 5000,"
            " 'EUR', now() - interval '2 days', now()"
            " FROM (SELECT id, doctor_id, start_at, end_at, row_number() OVER (ORDER BY id) n"
            "       FROM slots) s"
            " JOIN (SELECT id, row_number() OVER (ORDER BY id) n FROM users"
            "       WHERE role = 'patient') p ON p.n = s.n"
        )
        conn.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    url = database_url()
    print(f"database {url}: migrating and seeding {args.mails} visits ...", flush=True)
    fresh_database(url)
    now = datetime.now(UTC)
    seed(url, args.mails, now)
    Redis.from_url(REDIS_URL).flushdb()

    sink = Sink()
    port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": BENCH_SECRET_KEY,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": "https://carebook.example",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "workers", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(args.workers)
    ]
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.services.notifications import reminders

    app = create_app()
    try:
        time.sleep(2)  # the workers are up and listening
        with app.app_context():
            started = time.monotonic()
            written = reminders.send_due(now=now + timedelta(minutes=1))
            swept = time.monotonic()
        deadline = time.monotonic() + 600
        while sink.count < args.mails and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # would a duplicate still come?
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)

    mails = sink.count
    duplicates = mails - len(sink.ids)
    reference = smtp_alone(port, sink, lanes=args.workers * 4, count=min(args.mails, 5000))
    smtp.stop()
    delivery = (sink.last - swept) if sink.last else float("nan")
    total = (sink.last - started) if sink.last else float("nan")
    print(f"outbox rows written by the sweep: {written} (email + in-app)")
    print(f"sweep (rows + enqueue): {swept - started:.2f} s")
    print(f"mails received: {mails} of {args.mails}; duplicates (same Message-ID): {duplicates}")
    print(f"delivery after the sweep: {mails / delivery:.0f} mails/s over {delivery:.2f} s")
    print(f"end to end (sweep start to last mail): {mails / total:.0f} mails/s over {total:.2f} s")
    print(
        f"reference, same run: the SMTP sink alone (pre-built mails, {args.workers * 4} "
        f"connections, no database): {reference:.0f} mails/s; delivery = "
        f"{mails / delivery / reference:.2f} x the sink's ceiling"
    )
    return 0 if mails == args.mails and duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
