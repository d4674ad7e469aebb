"""Redis going away under a live server that uses it for everything it can: the RQ queues
(REDIS_URL), the rate limits (their storage defaults to REDIS_URL) and Socket.IO
(SOCKETIO_MESSAGE_QUEUE, presence), all through a FaultProxy.

While it is cut, pages, sign-in, the API and booking keep working (the limits count in memory,
the notifications stay in the outbox, Socket.IO emits are dropped with a log line); when it is
back, the outbox's dispatcher hands the held work on and each mail is sent once. The outbox
under a stopped Redis is also proved in-process by notifications/test_faults.py; this test is
the whole server's view of the same outage.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from app.extensions import db
from app.models import Notification, NotificationChannel, NotificationStatus, Role
from app.services import queues
from app.services.notifications import outbox
from tests import servers
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, make_doctor, make_slot, make_user
from tests.integration.faults.conftest import Reply, call, token_for
from tests.integration.notifications.conftest import run_worker
from tests.integration.realtime.conftest import Listener


@pytest.fixture
def redis_server(database_url, redis_url, smtp_server, make_proxy):
    """A live server whose queues, rate limits and Socket.IO use Redis through a proxy."""
    proxy = make_proxy(redis_url)
    through = proxy.url(redis_url)
    env = {
        "REDIS_URL": through,
        "SOCKETIO_MESSAGE_QUEUE": through,
        "RATELIMIT_ENABLED": "true",
        "BOOKING_RATE_LIMIT": "1000/hour",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
    }
    process, base_url = servers.start_app_server(
        database_url, TEST_SECRET_KEY, env=env, what="the server behind the Redis proxy"
    )
    yield proxy, base_url
    servers.stop(process)


@pytest.fixture
def queued_here(app, redis_url, smtp_server, monkeypatch):
    """This process's app hands on to the same Redis (directly) and mails the same inbox."""
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.port)
    yield
    queues.close_connections()


def _emails() -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(Notification).where(Notification.channel == NotificationChannel.EMAIL)
        )
    )


def test_redis_cut_pages_api_booking_and_sockets_keep_working_and_held_mail_goes_once(
    ctx, redis_server, redis_url, queued_here, inbox
):
    proxy, base_url = redis_server
    doctor = make_doctor()
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0)
    slots = [make_slot(doctor, start=start + timedelta(minutes=30 * i)) for i in range(3)]
    patients = [make_user(Role.PATIENT) for _ in range(3)]
    doctor_id, doctor_email, slot_ids = doctor.id, doctor.user.email, [s.id for s in slots]
    emails = [p.email for p in patients]
    patient_token = token_for(patients[2])
    db.session.remove()

    proxy.cut()
    replies: list[Reply] = []
    with requests.Session() as browser:
        for path in ("/", "/doctors", f"/doctors/{doctor_id}", "/login"):
            replies.append(call(browser, "GET", f"{base_url}{path}"))
        for email, slot_id in zip(emails[:2], slot_ids[:2], strict=True):
            signed_in = call(
                browser,
                "POST",
                f"{base_url}/api/v1/auth/token",
                json={"email": email, "password": PASSWORD},
            )  # a rate-limited endpoint: the limits count in memory meanwhile
            replies.append(signed_in)
            browser.headers["Authorization"] = f"Bearer {signed_in.body.get('access_token')}"
            replies.append(
                call(
                    browser,
                    "POST",
                    f"{base_url}/api/v1/appointments",
                    json={"slot_id": slot_id, "payment_method": "cash"},
                )
            )
        readyz = call(browser, "GET", f"{base_url}/readyz")

    watcher = Listener(namespaces=("/", "/public")).connect(base_url, token=patient_token)
    try:  # Socket.IO without its message queue: connects, answers, no error
        watched = watcher.client.call(
            "watch_doctor", {"doctor_id": doctor_id}, namespace="/public", timeout=10
        )
    finally:
        watcher.close()

    statuses = [r.status for r in replies]
    print(f"\n[faults] Redis cut: {len(replies)} requests {dict(Counter(statuses))}")
    assert statuses == [200, 200, 200, 200, 200, 201, 200, 201], [
        (r.status, r.text[:200]) for r in replies
    ]
    assert watched == {"ok": True}
    assert readyz.status == 503 and readyz.body["checks"]["redis"].startswith("unavailable")
    assert readyz.body["checks"]["database"] == "ok"
    held = _emails()
    assert len(held) == 4  # each booking: the patient's mail and the doctor's
    assert {n.status for n in held} == {NotificationStatus.PENDING}
    assert inbox.messages == []

    proxy.restore()
    later = datetime.now(UTC) + timedelta(minutes=2)
    assert outbox.requeue_stale(now=later) == 4  # the dispatcher hands the held mail on
    run_worker(redis_url)
    assert outbox.requeue_stale(now=later + timedelta(minutes=2)) == 0  # nothing left
    run_worker(redis_url)
    assert {n.status for n in _emails()} == {NotificationStatus.SENT}
    for email in emails[:2]:
        assert len(inbox.to(email)) == 1
    assert len(inbox.to(doctor_email)) == 2

    # Back for the server too: it books and its mail leaves once (through the queue, or the
    # sweep while the server still backs off from the outage).
    with requests.Session() as api:
        api.headers["Authorization"] = f"Bearer {patient_token}"
        after = call(
            api,
            "POST",
            f"{base_url}/api/v1/appointments",
            json={"slot_id": slot_ids[2], "payment_method": "cash"},
        )
    assert after.status == 201, after.text[:300]
    run_worker(redis_url)
    outbox.requeue_stale(now=later + timedelta(minutes=5))
    run_worker(redis_url)
    assert len(inbox.to(emails[2])) == 1
    assert len(inbox.to(doctor_email)) == 3
