"""Admin payments pages: search, a payment's details, open disputes, and who may see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import PaymentMethod, PaymentStatus, Role
from tests.factories import make_appointment, make_doctor, make_payment, make_slot, make_user
from tests.integration.admin.conftest import make_helper, sign_in


def _card_visit(patient_name: str, *, days: int = 3, doctor=None, **payment):
    doctor = doctor or make_doctor(fee_amount=8000)
    start = (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    appointment = make_appointment(
        make_slot(doctor, start=start),
        make_user(Role.PATIENT, name=patient_name),
        payment_method=PaymentMethod.CARD,
    )
    return make_payment(appointment, **payment)


def _rows(page: str) -> int:
    return page.count('data-testid="payment-row"')


def test_payments_are_searched_by_patient_appointment_intent_status_and_dates(web, admin):
    ana = _card_visit("Ana Lima")
    ben = _card_visit("Ben Okafor", amount_refunded=3000, status=PaymentStatus.PARTIALLY_REFUNDED)
    old = _card_visit("Cleo Old")
    old.created_at = datetime(2020, 1, 15, 12, tzinfo=UTC)
    db.session.commit()

    def search(**args) -> str:
        response = web.get("/admin/payments", query_string=args)
        assert response.status_code == 200, args
        return response.get_data(as_text=True)

    everything = search()
    assert _rows(everything) == 3
    # newest first; the old one last
    assert everything.index("Ben Okafor") < everything.index("Ana Lima") < everything.index("Cleo")
    assert _rows(search(patient="ana l")) == 1
    assert _rows(search(patient=ben.appointment.patient.email.upper())) == 1
    assert _rows(search(appointment_id=ana.appointment_id)) == 1
    assert _rows(search(payment_intent_id=ben.stripe_payment_intent_id)) == 1
    page = search(status="partially_refunded")
    assert _rows(page) == 1 and "Ben Okafor" in page
    assert "USD 80.00" in page and "USD 30.00" in page and "partially refunded" in page
    assert _rows(search(until="2020-01-15")) == 1
    assert _rows(search(since="2020-01-16")) == 2
    assert _rows(search(patient="nobody")) == 0


def test_payment_search_input_errors_are_form_errors(web, admin):
    for args, message in [
        ({"since": "2030-02-30"}, "Not a valid date value"),
        ({"status": "stolen"}, "Not a valid choice"),
        ({"appointment_id": "abc"}, "Not a valid integer value"),
        ({"since": "2030-02-02", "until": "2030-01-01"}, "after its end"),
    ]:
        response = web.get("/admin/payments", query_string=args)
        assert response.status_code == 422, args
        assert message in response.get_data(as_text=True), args


def test_payment_search_is_paginated(web, admin):
    doctor = make_doctor()
    for n in range(55):
        _card_visit(f"Patient {n:02d}", days=3 + n, doctor=doctor)
    first = web.get("/admin/payments").get_data(as_text=True)
    second = web.get("/admin/payments?page=2").get_data(as_text=True)
    assert _rows(first) == 50 and _rows(second) == 5
    assert "Page 1 of 2 · 55 in all" in first


def test_payment_page_shows_amounts_refunds_and_the_refund_form(web, admin):
    payment = _card_visit("Ana Lima", amount_refunded=2000, status=PaymentStatus.PARTIALLY_REFUNDED)
    payment.refund_target = 5000
    db.session.commit()

    response = web.get(f"/admin/payments/{payment.id}")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert f"Payment #{payment.id}" in page and "Ana Lima" in page
    assert "USD 30.00" in page  # refund owed: 50.00 decided, 20.00 sent
    assert "Up to USD 30.00 can be refunded" in page  # 80 captured - 50 decided
    assert 'value="30.00"' in page
    assert web.get("/admin/payments/999999").status_code == 404


def test_open_disputes_list_leaves_out_closed_ones(web, admin):
    _card_visit("Dana Dispute", dispute_id="dp_1", dispute_status="needs_response",
                status=PaymentStatus.DISPUTED)  # fmt: skip
    _card_visit("Wes Won", dispute_id="dp_2", dispute_status="won")
    _card_visit("No Dispute")
    page = web.get("/admin/payments/disputes").get_data(as_text=True)
    assert page.count('data-testid="dispute-row"') == 1
    assert "Dana Dispute" in page and "needs response" in page and "Wes Won" not in page


def test_helpers_need_payments_view_and_refunding_needs_payments_refund(web):
    payment = _card_visit("Ana Lima")
    viewer = make_helper("payments.view")
    sign_in(web, viewer)
    home = web.get("/").get_data(as_text=True)
    assert 'href="/admin/payments"' in home  # the nav link
    assert web.get("/admin/").status_code == 302  # one section: straight to it
    assert web.get("/admin/payments").status_code == 200
    page = web.get(f"/admin/payments/{payment.id}").get_data(as_text=True)
    assert 'data-testid="refund-form"' not in page
    response = web.post(f"/admin/payments/{payment.id}/refunds", data={"amount": "10.00"})
    assert response.status_code == 403

    web.post("/logout")
    sign_in(web, make_helper("users.manage"))
    assert web.get("/admin/payments").status_code == 403
    assert 'href="/admin/payments"' not in web.get("/admin/").get_data(as_text=True)


def test_admin_index_lists_payments(web, admin):
    page = web.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/payments"' in page
