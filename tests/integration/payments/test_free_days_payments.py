"""doctor_free_days through the card paths (tests/integration/services/test_free_days.py has
the rest): a hold paid becomes a booked slot, a card consult accepted takes a new one."""

from __future__ import annotations

from datetime import UTC, datetime

from app.extensions import db
from app.models import AppointmentStatus, ConsultStatus
from app.services.consults import consults
from app.services.payments import cards
from tests.factories import make_doctor, make_specialty
from tests.integration.payments import localstripe
from tests.integration.services.test_free_days import assert_right, stored_counts


def test_a_paid_hold_leaves_the_held_count_for_booked(hold, patient, stripe_base, now):
    assert_right()
    assert list(stored_counts().values()) == [(0, 1, None)]
    token = localstripe.card_token(stripe_base, "4242424242424242")
    result = cards.pay_with_card(
        appointment_id=hold.appointment.id, patient_id=patient.id, card_token=token, now=now
    )
    assert result.status == AppointmentStatus.CONFIRMED.value
    assert_right()
    assert stored_counts() == {}


def test_a_card_consult_accepted_books_the_slot_it_opens(patient, stripe_base):
    specialty = make_specialty("Paediatrics", "paediatrics")
    doctor = make_doctor(specialties=[specialty], on_call=True)
    now = datetime.now(UTC)
    consult = consults.request_consult(
        patient_id=patient.id,
        specialty="paediatrics",
        reason="Fever",
        payment_method="card",
        card_token=localstripe.card_token(stripe_base, "4242424242424242"),
        now=now,
    )
    consults.accept_consult(consult_id=consult.id, doctor_user_id=doctor.user_id, now=now)
    assert db.session.get(type(consult), consult.id).status is ConsultStatus.ACCEPTED
    assert_right()
