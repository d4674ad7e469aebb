"""Chat over Socket.IO: N connected clients over 2 server processes, M messages; delivery
latency and memory per server process.

Makes its own database (`carebook_bench_chat` beside BENCH_DATABASE_URL), seeds N/2 patient ×
doctor pairs with a confirmed visit and an open conversation, starts two gunicorn servers
(`-k gevent`, one worker each) sharing BENCH_SOCKET_QUEUE (default redis://127.0.0.1:6379/13,
flushed) as SOCKETIO_MESSAGE_QUEUE, connects every client with a bearer token (half the patients to
each server, each patient's doctor to the other one, so both servers take sends and every
message crosses Redis), then has patients
send M messages through `send_message` at --rate per second and times each from the send to
its arrival at the doctor's socket. Prints p50/p95/p99/max delivery latency and each server
process's resident memory before and after the clients connected; as the reference measured
in the same run, the latency of a Socket.IO round trip that touches no database (the
server's answer to a `typing` event in a conversation the sender is not in).

    .venv/bin/python bench/bench_chat.py           # --clients 1000 --messages 2000 --rate 100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg
import requests
import socketio
from benchlib import BENCH_SECRET_KEY, ROOT, percentile, psycopg_url
from redis import Redis

QUEUE_URL = os.environ.get("BENCH_SOCKET_QUEUE", "redis://127.0.0.1:6379/13")


def database_url() -> str:
    return psycopg_url().rpartition("/")[0] + "/carebook_bench_chat"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env_for(url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        "RATELIMIT_ENABLED": "false",
        "EMBEDDED_SCHEDULE": "false",
        "SOCKETIO_MESSAGE_QUEUE": QUEUE_URL,
        **extra,
    }
    env.pop("REDIS_URL", None)
    return env


def fresh_database(url: str) -> None:
    with psycopg.connect(url.rpartition("/")[0] + "/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS carebook_bench_chat WITH (FORCE)")
        conn.execute("CREATE DATABASE carebook_bench_chat")
    subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env_for(url),
        check=True, capture_output=True,
    )  # fmt: skip


def seed(url: str, pairs: int) -> list[tuple[int, int]]:
    """(patient user id, doctor user id) pairs with a confirmed visit in two days."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO clinics (name, city, timezone, currency, cancellation_window_hours,"
            " accepts_cash, reminder_offsets, chat_days_after_visit, created_at, updated_at)"
            " VALUES ('Chat clinic', 'Berlin', 'Europe/Berlin', 'EUR', 24, true, '[]', 14,"
            " now(), now())"
        )
        for role in ("doctor", "patient"):
            conn.execute(
                "INSERT INTO users (email, name, role, is_active, must_change_password,"
                " token_version, created_at, updated_at, email_verified_at)"
                f" SELECT '{role}' || i || '@chat.example', '{role} ' || i, '{role}', true,"
                " false, 0, now(), now(), now() FROM generate_series(1, %s) i",
                (pairs,),
            )
        conn.execute(
            "INSERT INTO doctors (user_id, clinic_id, fee_amount, fee_currency,"
            " requires_approval, verified_at, created_at, updated_at)"
            " SELECT id, 1, 5000, 'EUR', false, now(), now(), now() FROM users"
            " WHERE role = 'doctor' ORDER BY id"
        )
        conn.execute(
            "INSERT INTO slots (doctor_id, start_at, end_at, mode, status, created_at,"
            " updated_at) SELECT id, %(start)s, %(start)s + interval '30 minutes', 'video',"
            " 'open', now(), now() FROM doctors",
            {"start": start},
        )
        rows = conn.execute(
            "SELECT p.id, d.user_id, d.id, s.id FROM doctors d JOIN slots s ON s.doctor_id = d.id"
            " JOIN users p ON p.email = 'patient' || (d.id) || '@chat.example' ORDER BY d.id"
        ).fetchall()
        for patient_id, _, doctor_id, slot_id in rows:
            conn.execute(
                "INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at,"
                " ends_at, payment_method, fee_amount, fee_currency, confirmed_at, created_at,"
                " updated_at) VALUES (%s, %s, %s, 'confirmed', %s, %s, 'cash', 5000, 'EUR',"
                " now(), now(), now())",
                (patient_id, doctor_id, slot_id, start, start + timedelta(minutes=30)),
            )
        conn.execute("ANALYZE")
    return [(patient_id, doctor_user_id) for patient_id, doctor_user_id, _, _ in rows]


def open_conversations_and_tokens(url: str, pairs: list[tuple[int, int]]):
    os.environ.update(env_for(url))
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.extensions import db
    from app.models import User
    from app.services.accounts.tokens import issue_token
    from app.services.chat import conversations

    app = create_app()
    now = datetime.now(UTC)
    tokens: dict[int, str] = {}
    conversation_of: dict[int, int] = {}
    with app.app_context():
        for patient_id, doctor_user_id in pairs:
            doctor_id = db.session.execute(
                db.text("SELECT id FROM doctors WHERE user_id = :u"), {"u": doctor_user_id}
            ).scalar()
            conversation, _ = conversations.open_conversation(
                actor_id=patient_id, doctor_id=doctor_id, now=now
            )
            conversation_of[patient_id] = conversation.id
        for user in db.session.scalars(db.select(User)):
            tokens[user.id] = issue_token(
                user, secret_key=BENCH_SECRET_KEY, ttl_seconds=3600, now=now
            )
    return tokens, conversation_of


def start_server(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "-k", "gevent",
         "--workers", "1", "--worker-connections", "4000", "--graceful-timeout", "5",
         "--log-level", "warning",
         "--no-control-socket", "wsgi:app"],
        cwd=ROOT, env=env_for(url, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"server on {port} did not start")


def rss_mb(process: subprocess.Popen) -> float:
    """Resident memory of the gunicorn master and its workers, in MB."""
    pids = [process.pid]
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                with open(f"/proc/{stat}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == process.pid:
                        pids.append(int(stat))
            except OSError:
                continue
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        except (OSError, StopIteration):
            continue
    return total / 1024


async def run(args, tokens, conversation_of, pairs, bases):
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    def on_message(message):
        started = sent_at.pop(message.get("body") or "", None)
        if started is not None:
            latencies.append(time.monotonic() - started)
            if len(latencies) >= args.messages:
                done.set()

    clients: dict[int, socketio.AsyncClient] = {}

    async def connect(user_id: int, base: str, listen: bool):
        client = socketio.AsyncClient(reconnection=False)
        if listen:
            client.on("message", on_message)
        for attempt in range(3):  # a connect that times out on a busy machine is tried again
            try:
                await client.connect(
                    base, auth={"token": tokens[user_id]}, transports=["websocket"], wait_timeout=10
                )
                break
            except socketio.exceptions.ConnectionError as exc:
                print(f"connect of user {user_id} to {base} failed ({exc}), try {attempt + 1}")
                if attempt == 2:
                    raise
        clients[user_id] = client

    # Half the patients on each server, each patient's doctor on the other one: both servers
    # take sends, and every message still crosses Redis to reach its recipient.
    connecting = []
    for n, (patient_id, doctor_user_id) in enumerate(pairs):
        connecting.append(connect(patient_id, bases[n % 2], listen=False))
        connecting.append(connect(doctor_user_id, bases[(n + 1) % 2], listen=True))
    for start in range(0, len(connecting), 100):  # 100 at a time: no thundering herd
        await asyncio.gather(*connecting[start : start + 100])
    print(f"connected: {len(clients)} clients", flush=True)

    # The reference: a round trip through the same sockets that reads nothing (a typing event
    # in a conversation the sender is not in answers at once with an error).
    reference = []
    stranger = pairs[0][0]
    other_conversation = conversation_of[pairs[1][0]]
    for _ in range(200):
        started = time.monotonic()
        await clients[stranger].call("typing", {"conversation_id": other_conversation})
        reference.append(time.monotonic() - started)

    patients = [p for p, _ in pairs]
    interval = 1 / args.rate
    began = time.monotonic()
    for n in range(args.messages):
        # On a fixed schedule (not a sleep after each send), so the rate holds when a send or
        # the client's own work takes time.
        await asyncio.sleep(max(0.0, began + n * interval - time.monotonic()))
        patient = random.choice(patients)
        body = f"bench {n} {patient}"
        sent_at[body] = time.monotonic()
        await clients[patient].emit(
            "send_message", {"conversation_id": conversation_of[patient], "body": body}
        )
    sending = time.monotonic() - began
    print(f"sent {args.messages} in {sending:.1f} s ({args.messages / sending:.0f}/s)", flush=True)
    with contextlib.suppress(TimeoutError):  # a lost message shows in the count
        await asyncio.wait_for(done.wait(), timeout=60)
    await asyncio.gather(*(c.disconnect() for c in clients.values()))
    return latencies, reference


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100, help="messages sent per second")
    args = parser.parse_args()
    url = database_url()
    print(f"database {url}: migrating and seeding {args.clients // 2} pairs ...", flush=True)
    fresh_database(url)
    pairs = seed(url, args.clients // 2)
    tokens, conversation_of = open_conversations_and_tokens(url, pairs)
    Redis.from_url(QUEUE_URL).flushdb()
    servers = [start_server(url) for _ in range(2)]
    try:
        idle = [rss_mb(p) for p, _ in servers]
        latencies, reference = asyncio.run(
            run(args, tokens, conversation_of, pairs, [b for _, b in servers])
        )
        loaded = [rss_mb(p) for p, _ in servers]
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
    ms = sorted(x * 1000 for x in latencies)
    ref = sorted(x * 1000 for x in reference)

    def spread(values: list[float]) -> str:
        p50, p95, p99 = (percentile(values, q) for q in (50, 95, 99))
        return f"p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {values[-1]:.1f}"

    print(f"messages delivered: {len(ms)} of {args.messages} (sent at {args.rate:g}/s)")
    if ms:
        print(f"delivery latency ms: {spread(ms)}")
    print(f"reference, same run (a socket round trip that reads nothing) ms: {spread(ref)}")
    for n, (before, after) in enumerate(zip(idle, loaded, strict=True), 1):
        each = (after - before) * 1024 / (args.clients / 2)
        print(f"server {n}: {before:.0f} MB idle, {after:.0f} MB loaded ({each:.0f} KB a client)")
    return 0 if len(ms) == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
