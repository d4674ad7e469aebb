"""Refunds by policy on cancellation, staff refunds, reschedule keeping the payment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import AppointmentStatus, PaymentStatus, Role
from app.services.errors import Forbidden, InvalidInput
from app.services.payments import cards, gateway, refunds, settle
from app.services.scheduling import booking, policy
from tests.factories import make_slot, make_user

S = AppointmentStatus


@pytest.fixture
def paid(hold, patient, authorize, now):
    authorize(hold)
    return cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)


def test_patient_cancelling_before_the_window_gets_everything_back(paid, patient, now):
    booking.cancel_appointment(appointment_id=paid.id, actor_id=patient.id, now=now)
    payment = settle.latest_payment(paid.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 12000)
    assert [r.amount for r in payment.refunds] == [12000]
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).amount_refunded == 12000


def test_doctor_cancelling_inside_the_window_refunds_in_full(paid, doctor, now):
    inside = paid.starts_at - timedelta(hours=2)
    booking.cancel_appointment(appointment_id=paid.id, actor_id=doctor.user_id, now=inside)
    assert settle.latest_payment(paid.id).amount_refunded == 12000


def test_policy_inside_the_window_gives_the_clinics_late_share():
    start = datetime(2030, 1, 2, 9, tzinfo=UTC)
    deadline = start - timedelta(hours=24)
    late = start - timedelta(hours=3)

    def refund(now, *, by_patient=True, late_percent=None):
        return policy.cancellation_refund(
            amount_captured=10001, by_patient=by_patient, now=now, deadline=deadline,
            late_percent=late_percent,
        )  # fmt: skip

    assert refund(deadline - timedelta(minutes=1), late_percent=30) == 10001
    assert refund(late) == 0  # no late online cancelling: nothing by policy
    assert refund(late, late_percent=0) == 0
    assert refund(late, late_percent=30) == 3000  # rounded down
    assert refund(late, late_percent=100) == 10001
    assert refund(late, by_patient=False) == 10001


def test_refund_owed_while_stripe_is_down_is_sent_by_reconciliation(
    paid, patient, stripe_config, monkeypatch, runner, now
):
    base = stripe_config["STRIPE_API_BASE"]
    monkeypatch.setitem(stripe_config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    cancelled = booking.cancel_appointment(appointment_id=paid.id, actor_id=patient.id, now=now)
    assert cancelled.status is S.CANCELLED
    payment = settle.latest_payment(paid.id)
    assert (payment.refund_owed, payment.amount_refunded) == (12000, 0)

    monkeypatch.setitem(stripe_config, "STRIPE_API_BASE", base)
    result = runner.invoke(args=["reconcile-payments"])
    assert result.exit_code == 0, result.output
    assert "Refunds sent: 1." in result.output
    db.session.expire_all()
    payment = settle.latest_payment(paid.id)
    assert (payment.status, payment.amount_refunded, payment.refund_owed) == (
        PaymentStatus.REFUNDED, 12000, 0,
    )  # fmt: skip


def test_staff_refund_partially_then_the_rest(paid, now):
    admin = make_user(Role.ADMIN)
    payment = settle.latest_payment(paid.id)
    refunds.refund_payment(
        payment_id=payment.id, amount=2500, actor_id=admin.id, reason="late doctor", now=now
    )
    payment = settle.latest_payment(paid.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 2500)
    with pytest.raises(InvalidInput, match="At most 9500"):
        refunds.refund_payment(
            payment_id=payment.id, amount=9501, actor_id=admin.id, reason=None, now=now
        )
    # What is left goes back only with the appointment: cancel it.
    booking.cancel_appointment(appointment_id=paid.id, actor_id=admin.id, now=now)
    payment = settle.latest_payment(paid.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 12000)


def test_refund_needs_the_permission(client, auth, paid, patient):
    payment = settle.latest_payment(paid.id)
    helper = make_user(Role.HELPER)
    headers = {"Authorization": f"Bearer {auth.token(helper.email)}"}
    response = client.post(
        f"/api/v1/payments/{payment.id}/refunds", json={"amount": 100}, headers=headers
    )
    assert response.status_code == 403
    with pytest.raises(Forbidden):
        refunds.refund_payment(
            payment_id=payment.id, amount=100, actor_id=patient.id, reason=None,
            now=datetime.now(UTC),
        )  # fmt: skip


def test_refund_api_for_admins(client, auth, paid):
    payment = settle.latest_payment(paid.id)
    admin = make_user(Role.ADMIN)
    headers = {"Authorization": f"Bearer {auth.token(admin.email)}"}
    url = f"/api/v1/payments/{payment.id}/refunds"
    response = client.post(url, json={"amount": 1000, "reason": "goodwill"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount_refunded"] == 1000
    too_much = client.post(url, json={"amount": 12000}, headers=headers)
    assert too_much.status_code == 422


@pytest.mark.parametrize("amount", [1.9, 100.5, "100", True, None])
def test_refund_amount_must_be_whole_minor_units(client, auth, paid, amount):
    payment = settle.latest_payment(paid.id)
    admin = make_user(Role.ADMIN)
    headers = {"Authorization": f"Bearer {auth.token(admin.email)}"}
    response = client.post(
        f"/api/v1/payments/{payment.id}/refunds", json={"amount": amount}, headers=headers
    )
    assert response.status_code == 422, response.get_json()
    assert "amount" in response.get_json()["error"]["details"]["json"]
    db.session.refresh(payment)
    assert payment.amount_refunded == 0 and payment.refunds == []


def test_reschedule_keeps_the_payment_and_charges_nothing_more(paid, patient, doctor, now):
    new_slot = make_slot(doctor, start=paid.starts_at + timedelta(days=1))
    moved = booking.reschedule_appointment(
        appointment_id=paid.id, new_slot_id=new_slot.id, actor_id=patient.id, now=now
    )
    payment = settle.latest_payment(moved.id)
    assert payment is not None and payment.appointment_id == moved.id
    assert (payment.amount_captured, payment.amount_refunded) == (12000, 0)
    assert settle.latest_payment(paid.id) is None
    intent = gateway.retrieve_intent(payment.stripe_payment_intent_id)
    assert intent.amount_captured == 12000
    # and cancelling the moved appointment refunds the one payment
    booking.cancel_appointment(appointment_id=moved.id, actor_id=patient.id, now=now)
    assert settle.latest_payment(moved.id).amount_refunded == 12000
