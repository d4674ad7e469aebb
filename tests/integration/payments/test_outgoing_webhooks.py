"""Clinics' webhooks hear of card payments: captured when a card booking is paid (with the
appointment's created and confirmed), refunded when a cancellation gives the money back."""

from __future__ import annotations

import json

import pytest

from app.services.payments import cards
from app.services.scheduling import booking
from tests.integration.admin.conftest import make_admin
from tests.integration.webhooks.conftest import register, verify
from tests.webhook_server import WebhookReceiver


@pytest.fixture
def receiver(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", True)  # it listens on 127.0.0.1
    with WebhookReceiver() as receiver:
        yield receiver


def test_card_payment_captured_then_refunded(receiver, doctor, patient, hold, authorize, now):
    events = ["appointment.created", "payment.captured", "payment.refunded"]
    _, secret = register(make_admin(), doctor.clinic_id, receiver.url, events)

    authorize(hold)
    appointment = cards.confirm_paid(
        appointment_id=hold.appointment.id, actor_id=patient.id, now=now
    )
    booking.cancel_appointment(appointment_id=appointment.id, actor_id=patient.id, now=now)

    sent = [verify(secret, r.headers, r.body) for r in receiver.requests]
    assert [e["type"] for e in sent] == events
    captured, refunded = sent[1]["data"], sent[2]["data"]
    assert captured["appointment_id"] == appointment.id
    assert (captured["status"], captured["amount_captured"], captured["currency"]) == (
        "captured",
        12000,
        "USD",
    )
    assert (refunded["status"], refunded["amount_refunded"], refunded["refund_amount"]) == (
        "refunded",
        12000,
        12000,
    )
    assert json.loads(receiver.requests[1].body)["clinic_id"] == doctor.clinic_id
