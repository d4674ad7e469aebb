"""The doctor's earnings page: card money per month and currency, and cash apart."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.models import AppointmentStatus, PaymentMethod, PaymentStatus, Role
from app.services.payments import reports
from tests.factories import (
    make_appointment,
    make_clinic,
    make_doctor,
    make_payment,
    make_slot,
    make_user,
)

S = AppointmentStatus


def _visit(doctor, start, name, *, method=PaymentMethod.CARD, status=S.COMPLETED):
    slot = make_slot(doctor, start=start)
    return make_appointment(
        slot, make_user(Role.PATIENT, name=name), status=status, payment_method=method
    )


def _doctor():
    # New York: 02:30 UTC on 1 June is still 31 May there.
    return make_doctor(clinic=make_clinic(timezone="America/New_York"), fee_amount=9000)


def test_earnings_are_summed_by_local_month_and_currency(ctx):
    doctor = _doctor()
    may = _visit(doctor, datetime(2031, 6, 1, 2, 30, tzinfo=UTC), "Late May")
    make_payment(may, fee_amount=290)
    june = _visit(doctor, datetime(2031, 6, 10, 14, tzinfo=UTC), "June Card")
    make_payment(june, amount_refunded=4000, status=PaymentStatus.PARTIALLY_REFUNDED)
    june_eur = _visit(doctor, datetime(2031, 6, 11, 14, tzinfo=UTC), "June Euro")
    make_payment(june_eur, currency="EUR", amount=5000, amount_captured=5000, fee_amount=100)
    never_paid = _visit(
        doctor, datetime(2031, 6, 12, 14, tzinfo=UTC), "Never Paid", status=S.EXPIRED
    )
    make_payment(never_paid, amount_captured=0)
    _visit(doctor, datetime(2031, 6, 13, 14, tzinfo=UTC), "Cash Done", method=PaymentMethod.CASH)
    _visit(doctor, datetime(2031, 6, 14, 14, tzinfo=UTC), "Cash Booked", method=PaymentMethod.CASH,
           status=S.CONFIRMED)  # fmt: skip
    other = _doctor()
    make_payment(_visit(other, datetime(2031, 6, 10, 15, tzinfo=UTC), "Other Doctor's"))

    report = reports.doctor_earnings(
        doctor_id=doctor.id, month=date(2031, 6, 1), now=datetime(2031, 7, 1, tzinfo=UTC)
    )

    rows = {(t.month, t.currency): t for t in report.months}
    assert set(rows) == {
        (date(2031, 6, 1), "USD"), (date(2031, 6, 1), "EUR"), (date(2031, 5, 1), "USD"),
    }  # fmt: skip
    usd = rows[(date(2031, 6, 1), "USD")]
    assert (usd.paid_visits, usd.captured, usd.refunded, usd.net) == (1, 9000, 4000, 5000)
    assert (usd.fees, usd.fees_unknown) == (0, 1)
    assert (usd.cash, usd.cash_visits) == (9000, 1)
    eur = rows[(date(2031, 6, 1), "EUR")]
    assert (eur.paid_visits, eur.net, eur.fees, eur.cash_visits) == (1, 5000, 100, 0)
    assert rows[(date(2031, 5, 1), "USD")].fees == 290
    assert [p.appointment.patient.name for p in report.payments] == ["June Card", "June Euro"]
    assert [a.patient.name for a in report.cash_visits] == ["Cash Done"]


def test_doctor_sees_the_month_with_cash_labelled_apart(client, auth):
    doctor = _doctor()
    paid = _visit(doctor, datetime(2031, 6, 10, 14, tzinfo=UTC), "Ana Lima")
    make_payment(paid, amount_refunded=1500, status=PaymentStatus.PARTIALLY_REFUNDED)
    _visit(doctor, datetime(2031, 6, 13, 14, tzinfo=UTC), "Ben Cash", method=PaymentMethod.CASH)
    auth.login(doctor.user.email)

    assert 'href="/doctor/earnings"' in client.get("/").get_data(as_text=True)
    response = client.get("/doctor/earnings?month=2031-06")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "June 2031" in page
    assert "Tue 10 Jun, 10:00 EDT" in page and "Ana Lima" in page
    assert "USD 90.00" in page and "USD 15.00" in page and "USD 75.00" in page
    assert "partially refunded" in page
    assert "Paid at the clinic" in page and "Ben Cash" in page
    assert "Cash does not go through Carebook" in page
    assert page.count('data-testid="earnings-payment"') == 1
    empty = client.get("/doctor/earnings?month=2031-09").get_data(as_text=True)
    assert "Nothing paid for visits in September 2031" in empty


def test_bad_months_are_400_and_admins_pick_a_doctor(client, auth):
    doctor = _doctor()
    auth.login(doctor.user.email)
    for month in ("2031-13", "june", "1999-01", "2031-06-01"):
        assert client.get(f"/doctor/earnings?month={month}").status_code == 400, month
    other = _doctor()
    assert client.get(f"/doctor/earnings?doctor_id={other.id}").status_code == 403
    assert client.get("/doctor/earnings?doctor_id=x").status_code == 400
    auth.logout()

    admin = make_user(Role.ADMIN)
    auth.login(admin.email)
    chooser = client.get("/doctor/earnings")
    assert chooser.status_code == 200 and doctor.name in chooser.get_data(as_text=True)
    page = client.get(f"/doctor/earnings?doctor_id={doctor.id}").get_data(as_text=True)
    assert "Managing" in page and f"/doctor/earnings?doctor_id={doctor.id}" in page


def test_patients_and_helpers_may_not_see_earnings(client, auth):
    auth.login(make_user(Role.PATIENT).email)
    assert client.get("/doctor/earnings").status_code == 403
