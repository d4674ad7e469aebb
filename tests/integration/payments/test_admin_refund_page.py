"""The admin payment page's refund form: the staff refund service, through localstripe."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, PaymentStatus
from app.services.payments import cards, gateway, settle
from tests.integration.admin.conftest import make_admin, make_helper, sign_in


@pytest.fixture
def paid(hold, patient, authorize, now):
    authorize(hold)
    appointment = cards.confirm_paid(
        appointment_id=hold.appointment.id, actor_id=patient.id, now=now
    )
    return settle.latest_payment(appointment.id)


def test_admin_refunds_part_then_the_rest_from_the_payment_page(client, paid):
    admin = make_admin()
    sign_in(client, admin)
    url = f"/admin/payments/{paid.id}"
    assert 'value="120.00"' in client.get(url).get_data(as_text=True)  # default: all of it

    response = client.post(f"{url}/refunds", data={"amount": "12.50", "reason": "late doctor"})

    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Refunded 12.50 USD" in page
    assert page.count('data-testid="refund-row"') == 1 and "granted by staff" in page
    assert 'value="107.50"' in page
    payment = db.session.get(type(paid), paid.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1250)
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).amount_refunded == 1250
    granted = db.session.scalar(select(AuditLog).where(AuditLog.action == "payment.refund_granted"))
    assert (granted.actor_id, granted.data) == (admin.id, {"amount": 1250, "reason": "late doctor"})

    assert client.post(f"{url}/refunds", data={"amount": "107.50"}).status_code == 302
    db.session.expire_all()
    payment = db.session.get(type(paid), paid.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 12000)
    assert "Nothing is left to refund" in client.get(url).get_data(as_text=True)


def test_refund_form_errors_are_shown_and_nothing_moves(client, paid):
    sign_in(client, make_admin())
    url = f"/admin/payments/{paid.id}/refunds"
    for amount, status, message in [
        ("", 422, "This field is required"),
        ("abc", 422, "Not a valid decimal value"),
        ("0", 422, "Number must be between 0.01 and"),
        ("1.005", 422, "at most two decimals"),
        ("NaN", 422, "Enter an amount such as 12.50"),
        ("120.01", 422, "At most 12000"),
    ]:
        response = client.post(url, data={"amount": amount})
        assert response.status_code == status, amount
        assert message in response.get_data(as_text=True), amount
    db.session.expire_all()
    assert db.session.get(type(paid), paid.id).amount_refunded == 0


def test_helper_with_payments_refund_may_refund(client, paid):
    sign_in(client, make_helper("payments.view", "payments.refund"))
    response = client.post(f"/admin/payments/{paid.id}/refunds", data={"amount": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(paid), paid.id).amount_refunded == 100
