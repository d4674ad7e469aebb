"""A role change takes away what the old role could open (security issue 15, items 5 and 8):
a doctor moved to another role loses the doctor's appointments and is no longer listed or
bookable; a helper's permissions are dropped only by someone who holds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AppointmentStatus, Role, User
from app.services import staff
from app.services.accounts.tokens import issue_token
from app.services.errors import Forbidden
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_appointment, make_doctor, make_slot, make_user
from tests.integration.admin.conftest import make_helper, sign_in


def _bearer(user: User) -> dict:
    token = issue_token(user, secret_key=TEST_SECRET_KEY, ttl_seconds=600, now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


def _user(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


def _in_days(days: int) -> datetime:
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.replace(minute=0, second=0, microsecond=0)


def test_a_doctor_made_patient_loses_the_doctors_appointments_and_listing(web, admin, admin_app):
    doctor = make_doctor(name="Dr. Gone")
    doctor_user = doctor.user
    visit = make_appointment(make_slot(doctor, start=_in_days(3)), make_user(Role.PATIENT))
    free_slot = make_slot(doctor, start=_in_days(4))
    old_browser = admin_app.test_client()
    sign_in(old_browser, doctor_user)
    old_token = _bearer(doctor_user)

    response = web.post(f"/admin/users/{doctor_user.id}/role", data={"role": "patient"})

    assert response.status_code == 302
    assert _user(doctor_user.email).role is Role.PATIENT
    # What was signed in as the doctor is signed out.
    assert old_browser.get("/doctor/").status_code == 302
    assert old_browser.get("/api/v1/me", headers=old_token).status_code == 401

    # Signed in afresh (now a patient), the doctor's appointments stay closed: pages and API.
    browser = admin_app.test_client()
    sign_in(browser, _user(doctor_user.email))
    token = _bearer(_user(doctor_user.email))
    assert browser.get(f"/appointments/{visit.id}").status_code == 404
    assert browser.post(f"/appointments/{visit.id}/cancel").status_code == 404
    assert browser.get(f"/api/v1/appointments/{visit.id}", headers=token).status_code == 404
    cancel = browser.post(
        f"/api/v1/appointments/{visit.id}/cancel", json={}, headers=token
    ).status_code
    assert cancel == 404
    assert db.session.get(type(visit), visit.id).status is AppointmentStatus.CONFIRMED

    # Patients no longer find or book the profile.
    patient = make_user(Role.PATIENT)
    listed = web.get("/api/v1/doctors").get_json()["items"]
    assert doctor.id not in [item["id"] for item in listed]
    assert web.get(f"/api/v1/doctors/{doctor.id}").status_code == 404
    assert web.get(f"/api/v1/doctors/{doctor.id}/slots").status_code == 404
    assert web.get(f"/doctors/{doctor.id}").status_code == 404
    booking = web.post(
        "/api/v1/appointments",
        json={"slot_id": free_slot.id, "payment_method": "cash"},
        headers=_bearer(patient),
    )
    assert booking.status_code == 409


def test_made_doctor_again_the_profile_is_listed_again(web, admin):
    doctor = make_doctor()
    user_id = doctor.user_id
    assert web.post(f"/admin/users/{user_id}/role", data={"role": "patient"}).status_code == 302
    assert web.get(f"/api/v1/doctors/{doctor.id}").status_code == 404
    assert web.post(f"/admin/users/{user_id}/role", data={"role": "doctor"}).status_code == 302
    assert web.get(f"/api/v1/doctors/{doctor.id}").status_code == 200


def test_a_helper_cannot_drop_permissions_they_do_not_hold_by_changing_the_role(web):
    manager = make_helper("users.manage", email="manager@example.com")
    other = make_helper("payments.refund", "bookings.view", email="other@example.com")
    sign_in(web, manager)

    response = web.post(f"/admin/users/{other.id}/role", data={"role": "patient"})

    assert response.status_code == 403
    other = _user("other@example.com")
    assert other.role is Role.HELPER
    assert other.permission_names == {"payments.refund", "bookings.view"}


def test_the_service_applies_the_same_held_check(ctx):
    manager = make_helper("users.manage", "bookings.view")
    other = make_helper("bookings.view", "reports.view")
    now = datetime.now(UTC)
    with pytest.raises(Forbidden, match="permissions you hold"):
        staff.change_role(other.id, Role.DOCTOR, actor_id=manager.id, now=now, ip=None)
    db.session.rollback()
    assert _user(other.email).permission_names == {"bookings.view", "reports.view"}
    # Holding every permission the helper has, the change goes through.
    plain = make_helper("bookings.view")
    staff.change_role(plain.id, Role.PATIENT, actor_id=manager.id, now=now, ip=None)
    assert _user(plain.email).role is Role.PATIENT
    assert _user(plain.email).permission_names == set()
