"""Exactly once under faults: a refusing mail server, Redis down during a booking, a worker
killed in the middle of a job."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from app.extensions import db
from app.models import Notification, NotificationChannel, NotificationStatus
from app.services import queues
from app.services.notifications import outbox
from app.services.scheduling import booking
from tests import servers
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD
from tests.integration.notifications.conftest import future_slot, run_worker

ROOT = servers.ROOT
EMAIL = NotificationChannel.EMAIL


def _emails() -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(Notification).where(Notification.channel == EMAIL).order_by(Notification.id)
        )
    )


class Refusing:
    async def handle_DATA(self, server, session, envelope):
        return "554 5.7.1 Refused by policy"


@pytest.fixture
def refusing_smtp(app, monkeypatch):
    controller = Controller(Refusing(), hostname="127.0.0.1", port=servers.free_port())
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", controller.port)
    yield controller
    controller.stop()


def test_a_refusing_mail_server_is_retried_with_backoff_then_the_mail_is_failed(
    refusing_smtp, doctor, patient
):
    now = datetime.now(UTC)
    booking.book_slot(
        patient_id=patient.id, slot_id=future_slot(doctor).id, payment_method="cash",
        notes=None, now=now,
    )  # fmt: skip
    first = _emails()[0]
    assert (first.status, first.attempts) == (NotificationStatus.PENDING, 1)  # tried inline
    assert "554" in first.last_error
    assert first.available_at > now  # backing off

    assert outbox.requeue_stale(now=now) == 0  # not before its backoff
    later = first.available_at + timedelta(minutes=2)
    outbox.requeue_stale(now=later)
    outbox.requeue_stale(now=later + timedelta(minutes=5))
    failed = _emails()[0]
    assert (failed.status, failed.attempts) == (NotificationStatus.FAILED, 3)
    assert "Refused by policy" in failed.last_error
    outbox.requeue_stale(now=later + timedelta(hours=1))
    assert _emails()[0].attempts == 3  # failed for good: no fourth try


def _start_redis(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not _listening(port):
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    return process


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_redis_down_during_a_booking_the_booking_stands_and_its_mail_goes_once_it_is_back(
    mail_config, inbox, client, auth, doctor, patient, monkeypatch
):
    port = servers.free_port()
    redis = _start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    monkeypatch.setitem(mail_config, "REDIS_URL", url)
    token = auth.token(patient.email, PASSWORD)
    slot = future_slot(doctor)
    redis.terminate()
    redis.wait(10)
    try:
        response = client.post(
            "/api/v1/appointments",
            json={"slot_id": slot.id, "payment_method": "cash"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.get_json()
        assert {n.status for n in _emails()} == {NotificationStatus.PENDING}
        # For a while after the failure, enqueues give up at once (no connect timeout each).
        tried = []
        with monkeypatch.context() as patched:
            patched.setattr(queues.Queue, "enqueue", lambda *a, **k: tried.append(a))
            assert outbox.enqueue([_emails()[0].id]) is False
        assert tried == []
        queues.close_connections()  # forget the outage: the test brings Redis back now

        redis = _start_redis(port)
        later = datetime.now(UTC) + timedelta(minutes=2)
        assert outbox.requeue_stale(now=later) == 2  # the patient's mail and the doctor's
        run_worker(url)
        assert outbox.requeue_stale(now=later + timedelta(minutes=1)) == 0
        run_worker(url)
    finally:
        redis.terminate()
        redis.wait(10)
    assert len(inbox.to(patient.email)) == 1
    assert len(inbox.to(doctor.user.email)) == 1


class Stalled:
    """An SMTP port that accepts connections and never answers: a job stuck mid-send."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)
        for conn in self.held:
            conn.close()


def _worker(database_url: str, redis_url: str, smtp_port: int, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "NOTIFICATION_CLAIM_LEASE_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "workers", *args],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_worker_killed_mid_job_leaves_the_mail_to_be_sent_once_after_a_restart(
    app, queued, database_url, inbox, smtp_server, doctor, patient, monkeypatch
):
    monkeypatch.setitem(app.config, "NOTIFICATION_CLAIM_LEASE_SECONDS", 2)
    stalled = Stalled()
    booking.book_slot(
        patient_id=patient.id, slot_id=future_slot(doctor).id, payment_method="cash",
        notes=None, now=datetime.now(UTC),
    )  # fmt: skip
    worker = _worker(database_url, queued, stalled.port, "worker")
    try:
        deadline = time.monotonic() + 30
        while not all(n.claimed_at for n in _emails()):  # the worker holds them, mid-send
            assert time.monotonic() < deadline, "the worker never claimed the mail"
            time.sleep(0.1)
        for pid in [*_children(worker.pid), worker.pid]:  # RQ's work horse has its own group
            os.kill(pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        stalled.close()
    assert {(n.status, n.attempts) for n in _emails()} == {(NotificationStatus.PENDING, 1)}
    assert inbox.messages == []

    time.sleep(2.1)  # the dead worker's claim lapses
    assert outbox.requeue_stale(now=datetime.now(UTC)) == 2
    restarted = _worker(database_url, queued, smtp_server.port, "--burst")
    assert restarted.wait(60) == 0
    assert len(inbox.to(patient.email)) == 1
    assert len(inbox.to(doctor.user.email)) == 1
    assert {(n.status, n.attempts) for n in _emails()} == {(NotificationStatus.SENT, 2)}
