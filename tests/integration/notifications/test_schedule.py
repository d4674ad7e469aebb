"""The periodic jobs on RQ's cron scheduler: two `python -m workers` side by side do each
tick's work once."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue
from rq.job import Job

from app.extensions import db
from app.models import Notification, NotificationChannel, Role
from tests.factories import make_appointment, make_slot, make_user
from tests.integration.notifications.test_faults import _children, _worker

EMAIL = NotificationChannel.EMAIL


def test_two_worker_processes_send_a_due_reminder_once(
    queued, database_url, inbox, smtp_server, doctor
):
    patient = make_user(Role.PATIENT, email="remind-me@example.com")
    # Booked a while ago, the visit 23 h 59 from now: its day-before reminder is due now.
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=23, minutes=59)
    appointment = make_appointment(make_slot(doctor, start=start), patient)
    appointment.created_at = datetime.now(UTC) - timedelta(days=2)
    db.session.commit()

    workers = [_worker(database_url, queued, smtp_server.port) for _ in range(2)]
    try:
        deadline = time.monotonic() + 45
        while not inbox.to("remind-me@example.com"):
            assert time.monotonic() < deadline, "no reminder came from the workers"
            time.sleep(0.2)
        time.sleep(3)  # time for a doubled effect to show
    finally:
        for worker in workers:
            for pid in [*_children(worker.pid), worker.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            worker.wait(20)

    [mail] = inbox.to("remind-me@example.com")
    assert mail.subject.startswith("Reminder: ")
    db.session.expire_all()
    rows = db.session.scalars(
        db.select(Notification).where(
            Notification.kind == "appointment.reminder", Notification.channel == EMAIL
        )
    ).all()
    assert len(rows) == 1
    # Both cron schedulers enqueued the sweep; between the tick lock and the dedupe keys
    # the reminder was written by one of them.
    registry = Queue("default", connection=Redis.from_url(queued)).finished_job_registry
    sweeps = [
        job.return_value()
        for job in Job.fetch_many(registry.get_job_ids(), connection=registry.connection)
        if job is not None and job.func_name == "workers.jobs.send_reminders"
    ]
    assert len(sweeps) >= 2, sweeps
    written = [int(r.split()[0]) for r in sweeps if r.endswith("written")]
    assert sum(written) == 2, sweeps  # the email and the in-app row, once
