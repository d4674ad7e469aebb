"""The admin appointment pages: the search and its filters, one appointment with its history
(audit trail, payments, notifications), cancelling on the clinic's behalf, and who may."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AppointmentStatus, AuditLog, Notification, PaymentMethod, Role
from app.services import audit
from app.services.scheduling import booking
from tests.factories import (
    make_appointment,
    make_clinic,
    make_doctor,
    make_notification,
    make_payment,
    make_slot,
    make_user,
)
from tests.integration.admin.conftest import TOTP_SECRET, make_helper, sign_in

S = AppointmentStatus


@pytest.fixture
def visits(ctx):
    """Three appointments across two clinics, patients, doctors, statuses and days."""
    start = (datetime.now(UTC) + timedelta(days=10)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    north, south = make_clinic(name="North Clinic"), make_clinic(name="South Clinic")
    house = make_doctor(clinic=north, name="Dr Gregory House")
    grey = make_doctor(clinic=south, name="Dr Meredith Grey")
    ann = make_user(Role.PATIENT, name="Ann Patient", email="ann@example.com")
    bob = make_user(Role.PATIENT, name="Bob Patient", email="bob_100%@example.com")
    return {
        "ann_house": make_appointment(make_slot(house, start=start), ann),
        "bob_house": make_appointment(
            make_slot(house, start=start + timedelta(days=1)), bob, status=S.CANCELLED
        ),
        "ann_grey": make_appointment(
            make_slot(grey, start=start + timedelta(days=2)), ann, status=S.PENDING_APPROVAL
        ),
        "north": north,
        "start": start,
    }


def _found(web, **args) -> list[str]:
    response = web.get("/admin/appointments", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    return sorted(
        line.split("/admin/appointments/")[1].split('"')[0]
        for line in page.splitlines()
        if 'href="/admin/appointments/' in line and "appointment-row" not in line
    )


def test_search_filters_by_patient_doctor_clinic_status_and_dates(web, admin, visits):
    ids = {k: str(v.id) for k, v in visits.items() if hasattr(v, "patient_id")}
    everything = sorted(ids.values())
    assert _found(web) == everything
    assert _found(web, patient="ann@") == sorted([ids["ann_house"], ids["ann_grey"]])
    assert _found(web, patient="BOB pat") == [ids["bob_house"]]
    assert _found(web, patient="100%") == [ids["bob_house"]]  # % is a character, not a wildcard
    assert _found(web, patient="a%n") == []  # would match "ann" as a wildcard
    assert _found(web, doctor="grey") == [ids["ann_grey"]]
    assert _found(web, clinic=visits["north"].id) == sorted([ids["ann_house"], ids["bob_house"]])
    assert _found(web, status="cancelled") == [ids["bob_house"]]
    day = visits["start"].date()
    assert _found(web, since=(day + timedelta(days=1)).isoformat()) == sorted(
        [ids["bob_house"], ids["ann_grey"]]
    )
    assert _found(web, until=day.isoformat()) == [ids["ann_house"]]
    assert _found(web, patient="ann", status="pending_approval") == [ids["ann_grey"]]


def test_search_refuses_a_backwards_range_and_bad_input(web, admin, visits):
    response = web.get("/admin/appointments?since=2030-01-02&until=2030-01-01")
    assert response.status_code == 422
    assert "The start of the range is after its end." in response.get_data(as_text=True)
    assert web.get("/admin/appointments?status=lost").status_code == 422
    assert web.get("/admin/appointments?since=yesterday").status_code == 422


def test_search_is_paged(web, admin, ctx):
    doctor = make_doctor()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    for hour in range(27):
        make_appointment(make_slot(doctor, start=start + timedelta(hours=hour)))
    first = web.get("/admin/appointments").get_data(as_text=True)
    assert first.count('data-testid="appointment-row"') == 25
    assert "Page 1 of 2 · 27 in all" in first
    second = web.get("/admin/appointments?page=2").get_data(as_text=True)
    assert second.count('data-testid="appointment-row"') == 2


def test_detail_shows_who_changed_what_payments_and_notifications(web, admin, visits):
    appointment = visits["ann_house"]
    payment = make_payment(appointment)
    audit.record("payment.captured", actor_id=None, target_type="payment", target_id=payment.id)
    audit.record("payment.captured", actor_id=None, target_type="payment", target_id=999999)
    db.session.commit()
    make_notification(appointment.patient, "appointment.confirmed", appointment=appointment)
    make_notification(make_user(), "appointment.confirmed", appointment=appointment)  # not a party
    make_notification(appointment.patient, "appointment.confirmed", appointment=visits["ann_grey"])
    doctor_user = appointment.doctor.user
    booking.cancel_appointment(
        appointment_id=appointment.id,
        actor_id=doctor_user.id,
        now=datetime.now(UTC),
        reason="The doctor is ill",
    )

    response = web.get(f"/admin/appointments/{appointment.id}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "appointment.cancelled" in page and doctor_user.name in page
    assert "reason: The doctor is ill" in page
    assert "payment.captured" in page and f"payment #{payment.id}" in page
    assert "payment #999999" not in page
    assert page.count('data-testid="appointment-payment-row"') == 1
    # The two parties' notifications of this appointment: the test's row, and the patient's
    # cancellation on three channels (the doctor cancelled, so is not told).
    rows = page.count('data-testid="appointment-notification-row"')
    expected = db.session.scalar(
        select(db.func.count())
        .select_from(Notification)
        .where(Notification.kind == "appointment.cancelled")
    )
    assert rows == 1 + expected and expected >= 1
    assert "It cannot be cancelled now" in page or "Only upcoming appointments" in page


def test_admin_cancels_a_cash_visit_on_the_clinics_behalf(web, admin, visits):
    appointment = visits["ann_house"]
    url = f"/admin/appointments/{appointment.id}"
    assert 'data-testid="clinic-cancel-submit"' in web.get(url).get_data(as_text=True)

    assert web.post(f"{url}/cancel", data={"reason": ""}).status_code == 422

    response = web.post(f"{url}/cancel", data={"reason": "The clinic is closed for repairs"})

    assert response.status_code == 302
    db.session.expire_all()
    appointment = db.session.get(type(appointment), appointment.id)
    assert appointment.status is S.CANCELLED
    assert appointment.cancellation_reason == "The clinic is closed for repairs"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "appointment.cancelled"))
    assert entry.actor_id == admin.id
    assert entry.data == {
        "from": "confirmed",
        "by": "staff",
        "reason": "The clinic is closed for repairs",
    }
    told = db.session.scalars(
        select(Notification).where(Notification.kind == "appointment.cancelled")
    ).all()
    assert {n.user_id for n in told} == {appointment.patient_id, appointment.doctor.user_id}
    assert all(n.data["by"] == "clinic" for n in told)
    page = web.get(url).get_data(as_text=True)
    assert "cancelled on the clinic&#39;s behalf" in page
    # Twice is refused with the reason, not a 500.
    again = web.post(f"{url}/cancel", data={"reason": "again"})
    assert again.status_code == 409
    assert "Only upcoming appointments can be cancelled." in again.get_data(as_text=True)


def test_permissions_gate_the_pages_and_the_cancel(web, visits):
    appointment = visits["ann_house"]
    url = f"/admin/appointments/{appointment.id}"
    helper = make_helper("payments.view", totp_secret=TOTP_SECRET)
    sign_in(web, helper)
    assert web.get("/admin/appointments").status_code == 403
    assert web.get(url).status_code == 403
    assert web.post(f"{url}/cancel", data={"reason": "x"}).status_code == 403
    web.post("/logout")

    viewer = make_helper("bookings.view", totp_secret=TOTP_SECRET)
    sign_in(web, viewer)
    assert web.get("/admin/appointments").status_code == 200
    page = web.get(url).get_data(as_text=True)
    assert (
        "permission to manage appointments" in page
        and 'data-testid="clinic-cancel-submit"' not in page
    )
    assert web.post(f"{url}/cancel", data={"reason": "x"}).status_code == 403
    web.post("/logout")

    manager = make_helper("bookings.manage", totp_secret=TOTP_SECRET)
    sign_in(web, manager)
    assert web.get("/admin/appointments").status_code == 200
    assert web.post(f"{url}/cancel", data={"reason": "Closed"}).status_code == 302

    patient = appointment.patient
    web.post("/logout")
    sign_in(web, patient)
    assert web.get("/admin/appointments").status_code == 403


def test_card_visit_detail_lists_the_payment_without_payments_view(web, visits):
    slot = make_slot(make_doctor(), start=visits["start"] + timedelta(days=5))
    appointment = make_appointment(slot, payment_method=PaymentMethod.CARD)
    payment = make_payment(appointment)
    sign_in(web, make_helper("bookings.view", totp_secret=TOTP_SECRET))
    page = web.get(f"/admin/appointments/{appointment.id}").get_data(as_text=True)
    assert f"#{payment.id}" in page
    assert f'href="/admin/payments/{payment.id}"' not in page
