"""A doctor applies from the public page; staff with doctors.manage verify (the account opens
and a set-password link is emailed through the outbox) or decline with a reason (emailed to
the applicant, who has no account). Every step is audited; bad input is a form error."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    ApplicationStatus,
    AuditLog,
    Doctor,
    DoctorApplication,
    Notification,
    NotificationStatus,
    Role,
    User,
)
from app.services import access, onboarding
from app.services.errors import Forbidden
from tests.factories import make_clinic, make_specialty, make_user
from tests.integration.admin.conftest import TOTP_SECRET, make_helper, sign_in


@pytest.fixture
def directory(ctx):
    clinic = make_clinic(name="Harbour Clinic", currency="GBP", timezone="Europe/London")
    return {
        "clinic": clinic,
        "cardio": make_specialty("Cardiology"),
        "derm": make_specialty("Dermatology"),
    }


@pytest.fixture
def public(admin_app):
    return admin_app.test_client()


def _form(directory, **fields) -> dict:
    values = {
        "name": "Dr Lin Chen",
        "email": "Lin.Chen@Example.com",
        "licence_number": "GMC 7654321",
        "clinic_id": str(directory["clinic"].id),
        "specialty_ids": [str(directory["cardio"].id), str(directory["derm"].id)],
        "message": "I work Tuesdays and Thursdays.",
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def _apply(public, directory, **fields):
    return public.post("/doctors/apply", data=_form(directory, **fields))


def _application() -> DoctorApplication:
    return db.session.scalar(select(DoctorApplication))


def test_a_doctor_applies_from_the_public_page(public, directory):
    page = public.get("/doctors/apply").get_data(as_text=True)
    assert "Harbour Clinic" in page and "Cardiology" in page
    assert 'href="/doctors/apply"' in public.get("/").get_data(as_text=True)  # the footer

    response = _apply(public, directory)

    assert response.status_code == 200
    assert 'data-testid="application-received"' in response.get_data(as_text=True)
    application = _application()
    assert (application.name, application.email, application.licence_number) == (
        "Dr Lin Chen",
        "lin.chen@example.com",
        "GMC 7654321",
    )
    assert application.status is ApplicationStatus.PENDING
    assert sorted(application.specialty_ids) == sorted(
        [directory["cardio"].id, directory["derm"].id]
    )
    entry = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "doctor_application.submitted")
    )
    assert entry.target_id == str(application.id) and entry.ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "This field is required"),
        ({"email": "not-an-email"}, "Invalid email address"),
        ({"licence_number": ""}, "This field is required"),
        ({"licence_number": "<b>"}, "Enter your licence number as issued"),
        ({"clinic_id": ""}, "This field is required"),
        ({"clinic_id": "999999"}, "Not a valid choice"),
        ({"specialty_ids": None}, "Choose at least one specialty."),
        ({"specialty_ids": ["999999"]}, "is not a valid choice for this field"),
        ({"phone": "12"}, "international form, e.g. +14155550123."),
        ({"message": "x" * 2001}, "Field cannot be longer than 2000 characters."),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_stored(public, directory, fields, message):
    response = _apply(public, directory, **fields)
    assert response.status_code == 422, fields
    assert message in response.get_data(as_text=True), fields
    assert _application() is None


def test_a_second_application_while_one_waits_changes_nothing(public, directory):
    assert _apply(public, directory).status_code == 200
    again = _apply(public, directory, email="lin.chen@example.com", name="Someone Else")
    assert again.status_code == 200  # the same answer: it tells nothing about the address
    assert db.session.scalar(select(db.func.count(DoctorApplication.id))) == 1
    assert _application().name == "Dr Lin Chen"


def test_applications_are_rate_limited(make_app, database_url, app, directory):
    limited = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = limited.test_client()
    statuses = [
        client.post("/doctors/apply", data=_form(directory, email=f"d{n}@example.com")).status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    # ... and per address applied with.
    other = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = other.test_client()
    same = [
        client.post(
            "/doctors/apply",
            data=_form(directory, email="same@example.com"),
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
        ).status_code
        for n in range(4)
    ]
    assert same == [200, 200, 200, 429]


def test_verifying_opens_the_doctor_account_and_emails_a_set_password_link(
    web, admin, public, directory, inbox, admin_app
):
    _apply(public, directory)
    application = _application()
    listing = web.get("/admin/applications").get_data(as_text=True)
    assert "Dr Lin Chen" in listing and "1 waiting" in listing
    assert "GMC 7654321" in web.get(f"/admin/applications/{application.id}").get_data(as_text=True)

    response = web.post(f"/admin/applications/{application.id}/verify")

    user = db.session.scalar(select(User).where(User.email == "lin.chen@example.com"))
    doctor = db.session.scalar(select(Doctor).where(Doctor.user_id == user.id))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/doctors/{doctor.id}/edit"
    assert user.role is Role.DOCTOR and user.must_change_password and user.password_hash is None
    assert doctor.clinic_id == directory["clinic"].id and doctor.fee_currency == "GBP"
    assert doctor.licence_number == "GMC 7654321" and doctor.verified_at is not None
    assert {s.name for s in doctor.specialties} == {"Cardiology", "Dermatology"}
    assert access.listing_gaps(doctor) == ["no fee"]  # listed once an admin sets the fee
    db.session.expire_all()
    application = _application()
    assert application.status is ApplicationStatus.VERIFIED
    assert (application.doctor_id, application.decided_by_id) == (doctor.id, admin.id)
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"doctor_application.verified", "admin.user_created"} <= actions
    assert "auth.set_password_link_sent" in actions
    row = db.session.scalar(
        select(Notification).where(Notification.kind == "doctor_application.verified")
    )
    assert (row.user_id, row.status) == (user.id, NotificationStatus.SENT)

    [mail] = inbox.to("lin.chen@example.com")
    assert mail.subject == "Welcome to Carebook: choose your password"
    link = inbox.last_link("lin.chen@example.com")
    assert link.startswith(admin_app.config["PUBLIC_BASE_URL"])
    parts = urlsplit(link)
    assert admin_app.test_client().get(f"{parts.path}?{parts.query}").status_code == 200
    # Decided once: a second verify or a decline is refused.
    assert web.post(f"/admin/applications/{application.id}/verify").status_code == 409
    again = web.post(f"/admin/applications/{application.id}/decline", data={"reason": "x"})
    assert again.status_code == 409


def test_an_address_with_an_account_is_refused_at_verification(web, admin, public, directory):
    make_user(Role.PATIENT, email="lin.chen@example.com")
    _apply(public, directory)
    response = web.post(f"/admin/applications/{_application().id}/verify")
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)
    db.session.expire_all()
    assert _application().status is ApplicationStatus.PENDING
    assert db.session.scalar(select(db.func.count(Doctor.id))) == 0


def test_declining_needs_a_reason_and_emails_it_to_the_applicant(
    web, admin, public, directory, inbox
):
    _apply(public, directory)
    application = _application()
    url = f"/admin/applications/{application.id}/decline"
    missing = web.post(url, data={"reason": ""})
    assert missing.status_code == 422 and "This field is required" in missing.get_data(as_text=True)

    response = web.post(url, data={"reason": "The licence number is not on the register."})

    assert response.status_code == 302
    db.session.expire_all()
    application = _application()
    assert application.status is ApplicationStatus.DECLINED
    assert application.decline_reason == "The licence number is not on the register."
    assert db.session.scalar(select(db.func.count(User.id))) == 1  # the admin only
    row = db.session.scalar(
        select(Notification).where(Notification.kind == "doctor_application.declined")
    )
    assert (row.user_id, row.destination, row.status) == (
        None,
        "lin.chen@example.com",
        NotificationStatus.SENT,
    )
    [mail] = inbox.to("lin.chen@example.com")
    assert mail.subject == "Your application to join Carebook"
    assert "The licence number is not on the register." in mail.body
    assert "Hello Dr Lin Chen" in mail.body
    entry = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "doctor_application.declined")
    )
    assert (entry.actor_id, entry.data) == (
        admin.id,
        {"reason": "The licence number is not on the register."},
    )
    # The notification log lists it by its address.
    log = web.get("/admin/notifications?user=lin.chen").get_data(as_text=True)
    assert "doctor_application.declined" in log and "no account" in log
    # Declined: the address may apply again.
    assert _apply(public, directory).status_code == 200
    assert db.session.scalar(select(db.func.count(DoctorApplication.id))) == 2


def test_deciding_needs_doctors_manage(web, public, directory):
    _apply(public, directory)
    application = _application()
    sign_in(web, make_helper("users.manage", totp_secret=TOTP_SECRET))
    assert web.get("/admin/applications").status_code == 403
    assert web.get(f"/admin/applications/{application.id}").status_code == 403
    assert web.post(f"/admin/applications/{application.id}/verify").status_code == 403
    decline = web.post(f"/admin/applications/{application.id}/decline", data={"reason": "x"})
    assert decline.status_code == 403
    with pytest.raises(Forbidden):
        onboarding.verify(
            application_id=application.id, actor_id=make_helper().id, now=datetime.now(UTC)
        )
    web.post("/logout")
    sign_in(web, make_helper("doctors.manage", totp_secret=TOTP_SECRET))
    assert web.get("/admin/applications").status_code == 200
    assert web.post(f"/admin/applications/{application.id}/verify").status_code == 302
