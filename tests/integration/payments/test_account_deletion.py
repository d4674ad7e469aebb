"""Deleting an account with a paid upcoming visit: the cancellation policy refunds it at
Stripe (localstripe) first; the payment row stays, de-identified."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AppointmentStatus, PaymentStatus, User
from app.services.accounts import closure
from app.services.payments import cards, gateway, settle
from app.services.scheduling import booking
from tests.factories import PASSWORD


@pytest.fixture
def paid(hold, patient, authorize, now):
    authorize(hold)
    return cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)


def test_deleting_the_account_refunds_the_paid_visit_by_policy(paid, patient, now):
    closed = closure.delete_account(user_id=patient.id, password=PASSWORD, now=now)
    assert closed.cancelled == [paid.id]
    db.session.expire_all()
    appointment = booking.get_appointment(appointment_id=paid.id, viewer_id=paid.doctor.user_id)
    assert appointment.status is AppointmentStatus.CANCELLED
    payment = settle.latest_payment(paid.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 12000)
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).amount_refunded == 12000
    # The ledger row stays, on the anonymised account.
    user = db.session.get(User, payment.appointment.patient_id)
    assert user.id == patient.id and user.name == closure.ERASED_NAME


def test_wrong_password_leaves_the_paid_visit_alone(paid, patient, now):
    with pytest.raises(closure.WrongPassword):
        closure.delete_account(user_id=patient.id, password="not-my-password", now=now)
    db.session.expire_all()
    payment = settle.latest_payment(paid.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.CAPTURED, 0)
