"""Cancelling on the clinic's behalf from the admin appointment page refunds a card payment
in full through Stripe (localstripe), even inside the window where the patient's own
cancellation would get only the clinic's late share."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AppointmentStatus, Notification, PaymentStatus
from app.services.payments import cards, gateway, settle
from app.services.scheduling import booking, policy
from tests.factories import make_slot
from tests.integration.admin.conftest import make_admin, sign_in


@pytest.fixture
def paid_soon(doctor, patient, authorize, now):
    """A card visit in 5 hours (inside the clinic's 24-hour window), paid; the clinic refunds
    30% to a patient who cancels that late."""
    doctor.clinic.late_cancellation_refund_percent = 30
    db.session.commit()
    slot = make_slot(doctor, start=now.replace(microsecond=0) + timedelta(hours=5))
    hold = booking.book_card_appointment(
        patient_id=patient.id, slot_id=slot.id, notes=None, now=now, acknowledge_policy=True
    )
    authorize(hold)
    return cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)


def test_clinic_cancellation_from_the_admin_refunds_in_full(client, paid_soon, patient, now):
    # What the patient themself would get now: the late share only.
    patient_rules = policy.policy_for(paid_soon, patient, now)
    assert patient_rules.refund_for(12000) == 3600
    sign_in(client, make_admin())
    url = f"/admin/appointments/{paid_soon.id}"
    assert "refunded in full" in client.get(url).get_data(as_text=True)

    response = client.post(f"{url}/cancel", data={"reason": "The doctor is unwell"})

    assert response.status_code == 302
    db.session.expire_all()
    payment = settle.latest_payment(paid_soon.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 12000)
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).amount_refunded == 12000
    assert db.session.get(type(paid_soon), paid_soon.id).status is AppointmentStatus.CANCELLED
    page = client.get(url).get_data(as_text=True)
    assert "USD 120.00 goes back to the card" in page
    assert page.count('data-testid="appointment-refund"') == 1
    assert "payment.refunded" in page and "appointment.cancelled" in page
    told = db.session.scalar(
        select(Notification).where(
            Notification.kind == "appointment.cancelled",
            Notification.user_id == patient.id,
            Notification.channel == "email",
        )
    )
    assert told.data["by"] == "clinic" and told.data["refund_amount"] == 12000


def test_an_authorised_request_is_released_not_charged(client, doctor, patient, authorize, now):
    doctor.requires_approval = True
    db.session.commit()
    slot = make_slot(doctor, start=now.replace(microsecond=0) + timedelta(days=2))
    hold = booking.book_card_appointment(
        patient_id=patient.id, slot_id=slot.id, notes=None, now=now
    )
    authorize(hold)
    request = cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    assert request.status is AppointmentStatus.PENDING_APPROVAL
    sign_in(client, make_admin())

    response = client.post(f"/admin/appointments/{request.id}/cancel", data={"reason": "Closed"})

    assert response.status_code == 302
    db.session.expire_all()
    payment = settle.latest_payment(request.id)
    assert payment.status is PaymentStatus.CANCELED and payment.amount_captured == 0
