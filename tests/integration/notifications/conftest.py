"""Notifications end to end: a real SMTP server (aiosmtpd), and Redis with an RQ worker where
the test says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import SimpleWorker

from app.extensions import db
from app.models import Notification, NotificationChannel, Role
from app.services import queues
from app.services.queues import QUEUES
from tests.factories import make_clinic, make_doctor, make_slot, make_user


@pytest.fixture
def mail_config(app, smtp_server, inbox, monkeypatch):
    """The session app with SMTP pointed at the test server; jobs inline (no Redis)."""
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.port)
    return app.config


@pytest.fixture(autouse=True)
def _close_redis_pools():
    yield
    queues.close_connections()


@pytest.fixture
def queued(mail_config, redis_url, monkeypatch):
    """As mail_config, with REDIS_URL: mail leaves only when `run_worker()` drains the queues."""
    monkeypatch.setitem(mail_config, "REDIS_URL", redis_url)
    return redis_url


def run_worker(redis_url: str) -> None:
    """An RQ worker in this process (no fork), until the queues are empty."""
    connection = Redis.from_url(redis_url)
    SimpleWorker(list(QUEUES), connection=connection).work(burst=True)


@pytest.fixture
def doctor(ctx):
    return make_doctor(
        clinic=make_clinic(timezone="Europe/Madrid", city="Madrid", cancellation_window_hours=24),
        name="Dr. Ana Ruiz",
    )


@pytest.fixture
def patient(ctx):
    return make_user(Role.PATIENT, email="pat@example.com", name="Pat Doe")


def future_slot(doctor, days=3, hour=9):
    start = (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return make_slot(doctor, start=start)


def in_app(user_id: int) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(Notification.kind)
            .where(
                Notification.user_id == user_id,
                Notification.channel == NotificationChannel.IN_APP,
            )
            .order_by(Notification.id)
        )
    )
