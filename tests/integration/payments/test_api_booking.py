"""Booking by card through the JSON API, against localstripe."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentStatus
from app.services.payments import gateway
from tests.integration.payments import localstripe


def test_card_booking_returns_the_hold_and_the_stripe_js_block(client, auth, patient, slot):
    headers = {"Authorization": f"Bearer {auth.token(patient.email)}"}
    response = client.post(
        "/api/v1/appointments",
        json={"slot_id": slot.id, "payment_method": "card"},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending_payment"
    assert body["hold_expires_at"]
    payment = body["payment"]
    assert payment["publishable_key"] == localstripe.PUBLISHABLE_KEY
    assert payment["client_secret"].startswith(payment["payment_intent_id"] + "_secret_")
    assert (payment["amount"], payment["currency"]) == (12000, "USD")
    intent = gateway.retrieve_intent(payment["payment_intent_id"])
    assert (intent.status, intent.amount) == ("requires_payment_method", 12000)
    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.status is AppointmentStatus.PENDING_PAYMENT
