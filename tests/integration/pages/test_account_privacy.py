"""The account page: download your data, delete your account (password, or for an account
without one a fresh sign-in and the typed word)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, AuditLog, Role, User
from app.services.accounts import sessions
from tests.factories import PASSWORD, make_appointment, make_doctor, make_user


def _signed_in_without_password(client, user, *, reauth_minutes_ago: float | None):
    token = sessions.start_session(user.id, now=datetime.now(UTC), absolute_hours=1)
    with client.session_transaction() as session:
        session.update({"_user_id": str(user.id), "_fresh": True, "sid": token})
        if reauth_minutes_ago is not None:
            moment = datetime.now(UTC) - timedelta(minutes=reauth_minutes_ago)
            session["reauth_at"] = moment.timestamp()


def test_the_account_page_offers_the_data_as_a_download(client, auth):
    patient = make_user(Role.PATIENT, name="Ana Lima")
    make_appointment(patient=patient)
    auth.login(patient.email)
    page = client.get("/account").get_data(as_text=True)
    assert "/account/export" in page and "/account/delete" in page

    response = client.get("/account/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["name"] == "Ana Lima"
    assert len(data["appointments"]) == 1
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "account.exported")).one()


def test_a_wrong_password_on_the_page_deletes_nothing(client, auth):
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    response = client.post("/account/delete", data={"password": "wrong-password-here"})
    assert response.status_code == 403
    assert "not right" in response.get_data(as_text=True)
    assert db.session.get(User, patient.id).email == patient.email
    assert client.get("/account").status_code == 200


def test_deleting_on_the_page_cancels_the_visit_and_signs_out(client, auth):
    patient = make_user(Role.PATIENT, email="leaving@example.com")
    visit = make_appointment(patient=patient)
    auth.login(patient.email)
    assert client.get("/account/delete").status_code == 200
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/account").status_code in (302, 401)
    assert db.session.get(Appointment, visit.id).status is AppointmentStatus.CANCELLED
    assert db.session.get(User, patient.id).email.endswith("@deleted.invalid")
    assert auth.login("leaving@example.com").status_code != 302


def test_an_account_without_password_confirms_by_fresh_sign_in_and_typed_word(client):
    patient = make_user(Role.PATIENT, password_hash=None, google_sub="google-123")
    _signed_in_without_password(client, patient, reauth_minutes_ago=None)
    response = client.get("/account/delete")
    assert response.status_code == 302 and "/account/confirm" in response.headers["Location"]

    _signed_in_without_password(client, patient, reauth_minutes_ago=1)
    response = client.post("/account/delete", data={"confirmation": "delete me"})
    assert response.status_code == 422
    assert db.session.get(User, patient.id).is_active

    response = client.post("/account/delete", data={"confirmation": "DELETE"})
    assert response.status_code == 302
    user = db.session.get(User, patient.id)
    assert (user.is_active, user.google_sub) == (False, None)


def test_staff_are_told_an_admin_closes_their_account(client, auth):
    doctor = make_doctor()
    auth.login(doctor.user.email)
    assert "closed by an administrator" in client.get("/account/delete").get_data(as_text=True)
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 403
    assert db.session.get(User, doctor.user_id).is_active
