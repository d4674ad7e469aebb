"""Webhooks end to end: a local HTTP receiver, endpoints registered through the service or
the admin pages, deliveries inline (no Redis) unless a test runs an RQ worker."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Role
from app.services.queues import close_connections
from app.services.scheduling import booking
from app.services.webhooks import endpoints
from tests.factories import make_clinic, make_doctor, make_slot, make_user
from tests.integration.admin.conftest import make_admin
from tests.webhook_server import WebhookReceiver

ALL_EVENTS = ("appointment.created", "appointment.confirmed", "appointment.cancelled")


@pytest.fixture(scope="session")
def receiver_server():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(receiver_server):
    receiver_server.reset()
    yield receiver_server
    receiver_server.reset()


@pytest.fixture
def allow_private(app, monkeypatch):
    """The local receiver is on 127.0.0.1: allowed only with WEBHOOKS_ALLOW_PRIVATE."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", True)
    return app.config


@pytest.fixture(autouse=True)
def _close_redis_pools():
    yield
    close_connections()


@pytest.fixture
def owner(ctx):
    return make_admin(name="Ada Admin", email="ada@example.com")


@pytest.fixture
def doctor(ctx):
    return make_doctor(clinic=make_clinic(name="Harbour Clinic"), name="Dr. Ana Ruiz")


@pytest.fixture
def patient(ctx):
    return make_user(Role.PATIENT, email="pat@example.com", name="Pat Doe")


def register(owner, clinic_id: int, url: str, events=ALL_EVENTS):
    """An endpoint as a manager registers it; returns (endpoint id, secret)."""
    endpoint, secret = endpoints.register_endpoint(
        actor_id=owner.id, clinic_id=clinic_id, url=url, events=events, now=datetime.now(UTC)
    )
    return endpoint.id, secret


def future_slot(doctor, days: int = 3):
    start = (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    return make_slot(doctor, start=start)


def book(patient, doctor, days: int = 3):
    """A cash booking through the booking service (confirmed at once)."""
    return booking.book_slot(
        patient_id=patient.id,
        slot_id=future_slot(doctor, days=days).id,
        payment_method="cash",
        notes="a private note about my back pain",
        now=datetime.now(UTC),
    )


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300) -> dict:
    """The receiver's check, exactly as the README documents it; returns the event."""
    parts = dict(item.split("=", 1) for item in headers["Carebook-Signature"].split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"]), "bad signature"
    assert abs(datetime.now(UTC).timestamp() - timestamp) < tolerance, "stale timestamp"
    return json.loads(body)
