"""A patient keeps the profile a clinic needs on the account page."""

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Role, User
from tests.factories import make_doctor, make_user


def test_patient_changes_name_and_adds_birth_date_and_insurer(client, auth):
    patient = make_user(Role.PATIENT, name="Ana Lima")
    auth.login(patient.email)

    response = client.post(
        "/account/profile",
        data={
            "name": "Ana Lima Souza",
            "date_of_birth": "1990-05-17",
            "insurer": "Aetna",
            "member_number": "W123456789",
        },
    )
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "Ana Lima Souza" in page and "17 May 1990" in page and "Aetna · W123456789" in page

    db.session.expire_all()
    user = db.session.get(User, patient.id)
    assert user.name == "Ana Lima Souza"
    assert user.patient_profile.date_of_birth == date(1990, 5, 17)
    assert user.patient_profile.insurance_member_number == "W123456789"
    entry = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "account.profile_updated")
    ).one()
    assert "Aetna" not in str(entry.data)  # which fields changed, not their values


def test_insurance_is_optional_and_a_member_number_needs_an_insurer(client, auth):
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)

    assert client.post("/account/profile", data={"name": "Ana"}).status_code == 302
    refused = client.post("/account/profile", data={"name": "Ana", "member_number": "W1"})
    assert refused.status_code == 422
    assert "Name the insurer" in refused.get_data(as_text=True)
    future = client.post("/account/profile", data={"name": "Ana", "date_of_birth": "2999-01-01"})
    assert future.status_code == 422


def test_a_doctor_changes_only_their_name(client, auth):
    doctor = make_doctor(name="Dr. Old")
    auth.login(doctor.user.email)

    form = client.get("/account/profile").get_data(as_text=True)
    assert "Date of birth" not in form
    assert client.post("/account/profile", data={"name": "Dr. New"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, doctor.user.id).name == "Dr. New"
