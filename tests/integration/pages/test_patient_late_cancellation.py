"""The patient's appointment page states the clinic's late-cancellation refund, and the
admin clinic form sets it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AppointmentStatus, Clinic, PaymentMethod, Role
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user
from tests.integration.admin.conftest import make_admin, sign_in


@pytest.fixture
def patient(client, auth):
    user = make_user(Role.PATIENT, name="Pat Patient")
    auth.login(user.email)
    return user


def _card_visit(patient, clinic, start):
    slot = make_slot(make_doctor(clinic=clinic), start=start)
    return make_appointment(slot, patient, payment_method=PaymentMethod.CARD)


def test_page_states_the_late_refund_before_the_deadline(client, patient):
    clinic = make_clinic(cancellation_window_hours=24, late_cancellation_refund_percent=50)
    appointment = _card_visit(patient, clinic, datetime(2031, 3, 10, 13, 0, tzinfo=UTC))

    page = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)

    assert (
        "Free online cancellation until Sun 09 Mar 2031, 09:00 EDT; after that, cancelling "
        "refunds 50% of the payment." in page
    )


def test_inside_the_window_the_patient_may_still_cancel_but_not_move(client, patient):
    clinic = make_clinic(cancellation_window_hours=24, late_cancellation_refund_percent=30)
    start = (datetime.now(UTC) + timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    appointment = _card_visit(patient, clinic, start)
    appointment.created_at = start - timedelta(days=3)  # booked before its window opened
    db.session.commit()

    page = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)

    assert "Free cancellation ended at" in page
    assert "Cancelling now refunds 30% of the payment." in page
    assert "Cancel appointment" in page and "30% of the payment will be refunded" in page
    assert f'href="/appointments/{appointment.id}/reschedule"' not in page


def test_cash_visit_inside_the_window_is_cancelled_online(client, patient):
    clinic = make_clinic(cancellation_window_hours=24, late_cancellation_refund_percent=0)
    start = (datetime.now(UTC) + timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    appointment = make_appointment(make_slot(make_doctor(clinic=clinic), start=start), patient)

    assert "You can still cancel online." in client.get(f"/appointments/{appointment.id}").text
    assert client.post(f"/appointments/{appointment.id}/cancel").status_code == 302
    db.session.refresh(appointment)
    assert appointment.status is AppointmentStatus.CANCELLED


CLINIC = {
    "name": "Harbour Clinic",
    "city": "Sydney",
    "timezone": "Australia/Sydney",
    "currency": "AUD",
    "cancellation_window_hours": "48",
}


def test_admin_sets_and_clears_the_late_refund_percent(client):
    sign_in(client, make_admin())
    assert "Late cancellation refund (%)" in client.get("/admin/clinics/new").text
    response = client.post(
        "/admin/clinics/new", data={**CLINIC, "late_cancellation_refund_percent": "25"}
    )
    assert response.status_code == 302
    clinic = db.session.scalar(select(Clinic))
    assert clinic.late_cancellation_refund_percent == 25
    assert "then 25% back" in client.get("/admin/clinics").text
    assert 'value="25"' in client.get(f"/admin/clinics/{clinic.id}/edit").text
    assert (
        client.get("/api/v1/clinics").get_json()["items"][0]["late_cancellation_refund_percent"]
        == 25
    )

    edit = {**CLINIC, "late_cancellation_refund_percent": ""}
    assert client.post(f"/admin/clinics/{clinic.id}/edit", data=edit).status_code == 302
    db.session.refresh(clinic)
    assert clinic.late_cancellation_refund_percent is None


@pytest.mark.parametrize(
    ("value", "message"),
    [("101", "Number must be between 0 and 100"), ("-1", "Number must be between 0 and 100"),
     ("half", "Not a valid integer value")],
)  # fmt: skip
def test_late_refund_percent_outside_0_to_100_is_a_form_error(client, value, message):
    sign_in(client, make_admin())
    response = client.post(
        "/admin/clinics/new", data={**CLINIC, "late_cancellation_refund_percent": value}
    )
    assert response.status_code == 422
    assert message in response.text
    assert db.session.scalar(select(Clinic)) is None
