"""Receipts for card payments and refunds: what they say, and who may see them."""

from __future__ import annotations

import pytest

from app.models import Role
from app.services.access import PERMISSIONS
from app.services.payments import cards, receipts, refunds, settle
from app.services.scheduling import booking
from tests.factories import make_user


@pytest.fixture
def paid(hold, patient, authorize, now):
    authorize(hold)
    return cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)


def test_a_payment_and_its_refund_each_have_a_receipt(client, auth, paid, patient, now):
    payment = settle.latest_payment(paid.id)
    auth.login(patient.email)
    page = client.get(f"/receipts/payments/{payment.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for fact in (
        f"CB-P-{payment.id:06d}",
        "USD 120.00",
        "Card",
        paid.doctor.name,
        paid.doctor.clinic.name,
        patient.name,
        "In person",
        payment.stripe_payment_intent_id,
    ):
        assert fact in text, fact

    booking.cancel_appointment(appointment_id=paid.id, actor_id=patient.id, now=now)
    refund = settle.latest_payment(paid.id).refunds[0]
    text = client.get(f"/receipts/refunds/{refund.id}").get_data(as_text=True)
    assert f"CB-R-{refund.id:06d}" in text
    assert "Refund receipt" in text and "USD 120.00" in text
    assert f"CB-P-{payment.id:06d}" in text  # the payment it gives back
    done = client.get(f"/checkout/{paid.id}/done").get_data(as_text=True)
    assert f"/receipts/payments/{payment.id}" in done
    assert f"/receipts/refunds/{refund.id}" in done


def test_only_the_payer_and_payments_staff_see_a_receipt(client, auth, paid):
    payment = settle.latest_payment(paid.id)
    auth.login(make_user(Role.PATIENT).email)
    assert client.get(f"/receipts/payments/{payment.id}").status_code == 404
    assert client.get("/receipts/payments/999999").status_code == 404
    auth.logout()
    auth.login(paid.doctor.user.email)
    assert client.get(f"/receipts/payments/{payment.id}").status_code == 404
    staff = make_user(Role.HELPER)
    receipt = receipts.payment_receipt(payment_id=payment.id, viewer_id=_with(staff).id)
    assert receipt.number == f"CB-P-{payment.id:06d}"


def test_an_uncharged_payment_has_no_receipt(client, auth, hold, patient, authorize):
    authorize(hold)  # authorised at Stripe, never captured here
    auth.login(patient.email)
    response = client.get(f"/receipts/payments/{hold.payment.id}")
    assert response.status_code == 404


def test_staff_refund_receipts_follow_the_payment(paid, now):
    admin = make_user(Role.ADMIN)
    payment = settle.latest_payment(paid.id)
    refunds.refund_payment(
        payment_id=payment.id, amount=2000, actor_id=admin.id, reason="goodwill", now=now
    )
    refund = settle.latest_payment(paid.id).refunds[0]
    receipt = receipts.refund_receipt(refund_id=refund.id, viewer_id=paid.patient_id)
    assert (receipt.kind, receipt.amount, receipt.for_number) == (
        "refund",
        2000,
        f"CB-P-{payment.id:06d}",
    )


def _with(helper):
    from app.extensions import db
    from app.models import UserPermission

    helper.permissions.append(UserPermission(permission="payments.view"))
    db.session.commit()
    assert "payments.view" in PERMISSIONS
    return helper
