"""GET /api/v1/me/export and POST /api/v1/me/delete: a patient's copy of their data, and
deleting the account (what is erased, what is kept de-identified)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    AuditLog,
    Consult,
    ConsultStatus,
    Message,
    Notification,
    OneTimeCode,
    PatientProfile,
    Payment,
    RefreshToken,
    Review,
    Role,
    User,
    UserSession,
)
from app.services.accounts import closure, sessions
from app.services.chat import conversations, messages
from app.services.chat.attachments import Upload
from app.services.storage import media_storage
from tests.factories import (
    PASSWORD,
    make_appointment,
    make_completed_visit,
    make_doctor,
    make_notification,
    make_payment,
    make_review,
    make_slot,
    make_specialty,
    make_user,
)
from tests.integration.api.helpers import assert_error

SECRET_TOTP = "RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO"


@pytest.fixture
def world(ctx):
    """A patient with a past visit (reviewed, paid, chatted about), an upcoming cash visit and
    a notification; and another patient of the same doctor."""
    doctor = make_doctor(name="Dr Who")
    patient = make_user(
        Role.PATIENT, name="Ada Lovelace", phone="+14155550101", email="ada@example.com"
    )
    profile = patient.patient_profile
    profile.address, profile.insurer = "12 Analytical Row", "Babbage Mutual"
    profile.date_of_birth = datetime(1990, 12, 10).date()
    other = make_user(Role.PATIENT, name="Grace Hopper", email="grace@example.com")
    past = make_completed_visit(doctor, patient)
    past.notes = "my knee hurts"
    db.session.commit()
    payment = make_payment(past)
    review = make_review(past, comment="Listened well.")
    upcoming = make_appointment(
        make_slot(doctor, start=datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)),
        patient,
    )
    others = make_appointment(make_slot(doctor), other)
    others.notes = "grace's private note"
    db.session.commit()
    make_notification(patient, appointment=upcoming)
    conversation, _ = conversations.open_conversation(
        actor_id=patient.id, doctor_id=doctor.id, now=datetime.now(UTC)
    )
    message = messages.send_message(
        conversation_id=conversation.id,
        sender_id=patient.id,
        body="Here is my scan",
        upload=Upload(data=b"%PDF-1.4\n%%EOF\n", filename="scan.pdf"),
        now=datetime.now(UTC),
    )
    sessions.start_session(patient.id, now=datetime.now(UTC), absolute_hours=1)
    db.session.commit()
    return {
        "doctor": doctor,
        "patient": patient,
        "other": other,
        "past": past,
        "payment": payment,
        "review": review,
        "upcoming": upcoming,
        "message": message,
    }


def test_export_holds_the_callers_data_and_no_secrets_nor_other_patients(client, world, bearer):
    patient = world["patient"]
    patient.totp_secret = SECRET_TOTP  # stored sealed; must never be exported either way
    db.session.commit()
    response = client.get("/api/v1/me/export", headers=bearer(patient))
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert data["account"]["email"] == "ada@example.com"
    assert data["account"]["two_factor_enabled"] is True
    assert data["patient_profile"]["insurer"] == "Babbage Mutual"
    assert {a["id"] for a in data["appointments"]} == {world["past"].id, world["upcoming"].id}
    assert [a["notes"] for a in data["appointments"] if a["id"] == world["past"].id] == [
        "my knee hurts"
    ]
    assert [p["id"] for p in data["payments"]] == [world["payment"].id]
    assert [r["comment"] for r in data["reviews"]] == ["Listened well."]
    [conversation] = data["conversations"]
    [message] = conversation["messages"]
    assert message["body"] == "Here is my scan"
    assert message["attachment"] == {"name": "scan.pdf", "type": "application/pdf", "size": 15}
    assert len(data["notifications"]) == 1
    assert len(data["sessions"]) == 1
    raw = json.dumps(data)
    for secret in (patient.password_hash, patient.totp_secret, SECRET_TOTP, "token_hash"):
        assert secret not in raw
    assert "Grace" not in raw and "grace" not in raw
    assert world["message"].attachment_key not in raw
    exported = db.session.scalars(select(AuditLog).where(AuditLog.action == "account.exported"))
    assert [e.actor_id for e in exported] == [patient.id]


def test_a_doctors_export_holds_none_of_their_patients_data(client, world, bearer):
    doctor = world["doctor"]
    make_notification(doctor.user, appointment=world["upcoming"])
    response = client.get("/api/v1/me/export", headers=bearer(doctor.user))
    assert response.status_code == 200
    data = response.get_json()
    assert data["doctor_profile"]["id"] == doctor.id
    assert data["appointments"] == [] and data["conversations"] == []
    assert data["notifications"] and all(n["data"] is None for n in data["notifications"])
    raw = json.dumps(data)
    assert "Ada" not in raw and "scan" not in raw and "knee" not in raw


def test_export_needs_a_token(client, ctx):
    assert_error(client.get("/api/v1/me/export"), 401)


@pytest.mark.parametrize("body", [{"password": "not-the-password"}, {}, {"password": ""}])
def test_delete_with_a_wrong_or_missing_password_changes_nothing(client, world, bearer, body):
    patient = world["patient"]
    headers = bearer(patient)
    response = client.post("/api/v1/me/delete", json=body, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.get_json()["error"]["message"]
    db.session.expire_all()
    assert db.session.get(User, patient.id).email == "ada@example.com"
    assert db.session.get(Appointment, world["upcoming"].id).status is AppointmentStatus.CONFIRMED
    assert db.session.get(Message, world["message"].id).body == "Here is my scan"
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_delete_erases_the_person_and_keeps_the_books_de_identified(client, world, bearer, auth):
    patient, message = world["patient"], world["message"]
    key = message.attachment_key
    assert media_storage().read(key) is not None
    headers = bearer(patient)
    auth.login("ada@example.com", "a-typo-in-it")  # audited with the address typed
    assert "ada@example.com" in json.dumps([e.data for e in db.session.scalars(select(AuditLog))])
    response = client.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    cancelled = [world["upcoming"].id]
    assert response.get_json() == {"deleted": True, "cancelled_appointments": cancelled}

    # Before anyone types the old address again (a failed sign-in records what was typed).
    audit_dump = json.dumps([e.data for e in db.session.scalars(select(AuditLog))])

    # Signed out everywhere, and the old credentials open nothing.
    assert_error(client.get("/api/v1/me", headers=headers), 401)
    token = client.post(
        "/api/v1/auth/token", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert token.status_code == 401
    assert auth.login("ada@example.com").status_code != 302

    db.session.expire_all()
    user = db.session.get(User, patient.id)
    assert user.email.endswith("@deleted.invalid") and user.name == "Former patient"
    assert (user.phone, user.password_hash, user.totp_secret, user.is_active) == (
        None,
        None,
        None,
        False,
    )
    profile = db.session.scalar(select(PatientProfile).where(PatientProfile.user_id == user.id))
    assert (profile.address, profile.insurer, profile.date_of_birth) == (None, None, None)
    for model in (UserSession, OneTimeCode, Notification):
        assert db.session.scalars(select(model).where(model.user_id == user.id)).all() == []

    # The upcoming visit was cancelled by policy, the past one stays as history (no note).
    upcoming = db.session.get(Appointment, world["upcoming"].id)
    assert upcoming.status is AppointmentStatus.CANCELLED
    assert upcoming.cancellation_reason == "patient deleted their account"
    assert db.session.get(Appointment, world["past"].id).notes is None

    # Chat: body and file gone (from storage too).
    message = db.session.get(Message, message.id)
    assert (message.body, message.attachment_key) == (closure.ERASED_MESSAGE, None)
    assert media_storage().read(key) is None

    # Money and reviews stay, pointing at the anonymised row.
    payment = db.session.get(Payment, world["payment"].id)
    assert payment.amount_captured == world["past"].fee_amount
    assert payment.appointment.patient_id == user.id
    review = db.session.get(Review, world["review"].id)
    assert review.rating == 5 and review.patient.name == "Former patient"

    # Audited without the erased data; and no row anywhere still holds the old email.
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "account.deleted"))
    assert entry.actor_id == user.id and entry.target_id == str(user.id)
    assert "ada@example.com" not in audit_dump and "Ada Lovelace" not in audit_dump
    hits = db.session.execute(
        text("SELECT count(*) FROM users WHERE email = 'ada@example.com' OR name LIKE 'Ada%'")
    ).scalar()
    assert hits == 0

    # The other patient is untouched.
    assert db.session.get(User, world["other"].id).email == "grace@example.com"


def test_a_second_delete_with_the_old_token_is_refused(client, world, bearer):
    headers = bearer(world["patient"])
    first = client.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=headers)
    assert first.status_code == 200
    again = client.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=headers)
    assert_error(again, 401)
    assert (
        len(db.session.scalars(select(AuditLog).where(AuditLog.action == "account.deleted")).all())
        == 1
    )


def test_staff_accounts_are_not_deleted_from_the_api(client, world, bearer):
    doctor_user = world["doctor"].user
    response = client.post(
        "/api/v1/me/delete", json={"password": PASSWORD}, headers=bearer(doctor_user)
    )
    assert_error(response, 403, "staff_account")
    assert db.session.get(User, doctor_user.id).is_active


def test_a_visit_past_the_cancellation_deadline_blocks_the_deletion(client, world, bearer):
    clinic = world["doctor"].clinic
    clinic.cancellation_window_hours, clinic.late_cancellation_refund_percent = 24 * 7, None
    db.session.commit()
    response = client.post(
        "/api/v1/me/delete", json={"password": PASSWORD}, headers=bearer(world["patient"])
    )
    assert_error(response, 409, "visit_cannot_be_cancelled")
    assert db.session.get(User, world["patient"].id).is_active
    assert db.session.get(Appointment, world["upcoming"].id).status is AppointmentStatus.CONFIRMED


def test_a_waiting_consult_and_the_api_sessions_are_exported_then_withdrawn_and_erased(
    client, world, bearer
):
    patient = world["patient"]
    make_specialty("Dermatology", "dermatology")
    asked = client.post(
        "/api/v1/consults",
        json={"specialty": "dermatology", "reason": "A rash since this morning",
              "payment_method": "cash"},
        headers=bearer(patient),
    )  # fmt: skip
    assert asked.status_code == 201, asked.get_json()
    signed_in = client.post(
        "/api/v1/auth/token",
        json={"email": patient.email, "password": PASSWORD, "client_name": "Ada's sync"},
    )
    assert signed_in.status_code == 200, signed_in.get_json()

    data = client.get("/api/v1/me/export", headers=bearer(patient)).get_json()
    assert [(c["reason"], c["status"]) for c in data["consults"]] == [
        ("A rash since this morning", "waiting")
    ]
    assert [s["client"] for s in data["api_sessions"]] == ["Ada's sync"]
    assert signed_in.get_json()["refresh_token"] not in json.dumps(data)

    deleted = client.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=bearer(patient))
    assert deleted.status_code == 200, deleted.get_json()
    consult = db.session.scalars(select(Consult).where(Consult.patient_id == patient.id)).one()
    assert consult.status is ConsultStatus.CANCELLED and consult.reason is None
    assert db.session.scalars(select(RefreshToken).filter_by(user_id=patient.id)).all() == []
