"""A clinic's late-cancellation refund: inside the policy window a patient may still cancel
online and gets that percent back (through localstripe); without one, online changes close."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import AppointmentStatus, PaymentMethod, PaymentStatus, Role
from app.services.payments import cards, gateway, settle
from app.services.scheduling import booking, policy
from tests.factories import make_appointment, make_slot, make_user

S = AppointmentStatus


@pytest.fixture
def paid(hold, patient, authorize, now):
    authorize(hold)
    return cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)


def _set_percent(doctor, percent):
    doctor.clinic.late_cancellation_refund_percent = percent
    db.session.commit()


def test_cancelling_inside_the_window_refunds_the_clinics_percent(paid, patient, doctor):
    _set_percent(doctor, 25)
    inside = paid.starts_at - timedelta(hours=3)
    patient_user = db.session.get(type(patient), patient.id)
    assert booking.allowed_actions(paid, patient_user, inside)[:1] == ["cancel"]
    assert "reschedule" not in booking.allowed_actions(paid, patient_user, inside)

    cancelled = booking.cancel_appointment(appointment_id=paid.id, actor_id=patient.id, now=inside)

    assert cancelled.status is S.CANCELLED
    payment = settle.latest_payment(paid.id)
    assert (payment.status, payment.amount_refunded, payment.refund_owed) == (
        PaymentStatus.PARTIALLY_REFUNDED, 3000, 0,
    )  # fmt: skip
    assert [r.amount for r in payment.refunds] == [3000]
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).amount_refunded == 3000


def test_zero_percent_lets_the_patient_cancel_late_without_a_refund(paid, patient, doctor):
    _set_percent(doctor, 0)
    inside = paid.starts_at - timedelta(hours=1)
    booking.cancel_appointment(appointment_id=paid.id, actor_id=patient.id, now=inside)
    payment = settle.latest_payment(paid.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.CAPTURED, 0)


def test_rescheduling_inside_the_window_stays_closed(paid, patient, doctor):
    _set_percent(doctor, 50)
    inside = paid.starts_at - timedelta(hours=3)
    later = make_slot(doctor, start=paid.starts_at + timedelta(days=1))
    with pytest.raises(policy.PolicyWindowClosed, match="rescheduling closes 24 hours"):
        booking.reschedule_appointment(
            appointment_id=paid.id, new_slot_id=later.id, actor_id=patient.id, now=inside
        )


def test_without_a_percent_online_changes_close_inside_the_window(paid, patient, doctor):
    assert doctor.clinic.late_cancellation_refund_percent is None
    inside = paid.starts_at - timedelta(hours=3)
    patient_user = db.session.get(type(patient), patient.id)
    assert "cancel" not in booking.allowed_actions(paid, patient_user, inside)
    with pytest.raises(policy.PolicyWindowClosed, match="cancellation closes 24 hours"):
        booking.cancel_appointment(appointment_id=paid.id, actor_id=patient.id, now=inside)
    payment = settle.latest_payment(paid.id)
    assert (payment.amount_refunded, payment.refund_target) == (0, None)
    db.session.rollback()
    assert db.session.get(type(paid), paid.id).status is S.CONFIRMED


def test_cash_appointment_cancelled_late_has_nothing_to_refund(doctor, now):
    _set_percent(doctor, 40)
    slot = make_slot(doctor, start=now.replace(microsecond=0) + timedelta(hours=5))
    patient = make_user(Role.PATIENT)
    cash = make_appointment(slot, patient, payment_method=PaymentMethod.CASH)
    cancelled = booking.cancel_appointment(appointment_id=cash.id, actor_id=patient.id, now=now)
    assert cancelled.status is S.CANCELLED
    assert settle.latest_payment(cash.id) is None
