"""Admin pages for the directory: clinics, specialties and doctors."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Clinic, Doctor, Specialty
from tests.factories import make_clinic, make_doctor
from tests.integration.admin.conftest import make_helper, sign_in

CLINIC = {
    "name": "Harbour Clinic",
    "address": "1 Quay Street",
    "city": "Sydney",
    "latitude": "-33.86",
    "longitude": "151.21",
    "phone": "+61 2 9374 4000",
    "email": "Front@Harbour.example",
    "website": "https://harbour.example",
    "timezone": "Australia/Sydney",
    "currency": "aud",
    "cancellation_window_hours": "48",
    "accepts_cash": "y",
}


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_admin_creates_and_edits_a_clinic(web, admin):
    response = web.post("/admin/clinics/new", data=CLINIC)

    assert response.status_code == 302
    clinic = db.session.scalar(select(Clinic))
    assert (clinic.timezone, clinic.currency, clinic.phone, clinic.email) == (
        "Australia/Sydney",
        "AUD",
        "+61293744000",
        "front@harbour.example",
    )
    assert (clinic.cancellation_window_hours, clinic.accepts_cash) == (48, True)
    assert "Harbour Clinic" in web.get("/admin/clinics").get_data(as_text=True)

    edit = {**CLINIC, "city": "Manly", "cancellation_window_hours": "0"}
    del edit["accepts_cash"]
    assert web.post(f"/admin/clinics/{clinic.id}/edit", data=edit).status_code == 302
    db.session.refresh(clinic)
    assert (clinic.city, clinic.cancellation_window_hours, clinic.accepts_cash) == (
        "Manly",
        0,
        False,
    )
    assert _actions()[-2:] == ["admin.clinic_created", "admin.clinic_updated"]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "admin.clinic_updated"))
    assert set(entry.data["changed"]) == {"city", "cancellation_window_hours", "accepts_cash"}


def test_clinic_input_errors_are_shown_on_the_form(web, admin):
    make_clinic(name="Taken Clinic")
    cases = [
        ({"timezone": "Mars/Olympus_Mons"}, 422, "is not an IANA time zone"),
        ({"currency": "US1"}, 422, "three-letter ISO code"),
        ({"latitude": "123"}, 422, "Number must be between -90"),
        ({"longitude": ""}, 422, "both latitude and longitude"),
        ({"website": "ftp://x.example"}, 422, "https://"),
        ({"phone": "12"}, 422, "international form"),
        ({"name": "Taken Clinic"}, 409, "already exists"),
        ({"cancellation_window_hours": "-1"}, 422, "Number must be between 0"),
    ]
    for change, status, message in cases:
        response = web.post("/admin/clinics/new", data={**CLINIC, **change})
        assert response.status_code == status, change
        assert message in response.get_data(as_text=True), change
    assert db.session.scalar(select(Clinic).where(Clinic.name == "Harbour Clinic")) is None
    assert web.get("/admin/clinics/999/edit").status_code == 404


def test_specialties_are_added_and_renamed_keeping_their_link_name(web, admin):
    assert web.post("/admin/specialties", data={"name": "  Skin   care "}).status_code == 302
    specialty = db.session.scalar(select(Specialty))
    assert (specialty.name, specialty.slug) == ("Skin care", "skin-care")

    response = web.post(
        f"/admin/specialties/{specialty.id}/rename", data={f"s{specialty.id}-name": "Dermatology"}
    )

    assert response.status_code == 302
    db.session.refresh(specialty)
    assert (specialty.name, specialty.slug) == ("Dermatology", "skin-care")
    assert web.post("/admin/specialties", data={"name": "dermatology!"}).status_code == 302
    duplicate = web.post("/admin/specialties", data={"name": "Dermatology"})
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.get_data(as_text=True)
    assert web.post("/admin/specialties", data={"name": ""}).status_code == 422
    assert "admin.specialty_renamed" in _actions()


def test_admin_assigns_a_doctor_clinic_specialties_fee_and_verifies_them(web, admin):
    doctor = make_doctor(name="Dr Who", verified_at=None)  # the factory verifies by default
    london = make_clinic(name="London", currency="GBP", timezone="Europe/London")
    cardio = Specialty(name="Cardiology", slug="cardiology")
    db.session.add(cardio)
    db.session.commit()
    assert "Dr Who" in web.get("/admin/doctors").get_data(as_text=True)

    response = web.post(
        f"/admin/doctors/{doctor.id}/edit",
        data={
            "clinic_id": str(london.id),
            "specialty_ids": [str(cardio.id)],
            "fee": "85.50",
            "licence_number": "GMC-123",
            "bio": "Time and space.",
            "requires_approval": "y",
        },
    )

    assert response.status_code == 302
    db.session.refresh(doctor)
    assert (doctor.clinic_id, doctor.fee_amount, doctor.fee_currency) == (london.id, 8550, "GBP")
    assert [s.name for s in doctor.specialties] == ["Cardiology"]
    assert (doctor.licence_number, doctor.requires_approval) == ("GMC-123", True)
    assert doctor.verified_at is None

    assert web.post(f"/admin/doctors/{doctor.id}/verify").status_code == 302
    db.session.refresh(doctor)
    assert doctor.verified_at is not None
    assert _actions()[-2:] == ["admin.doctor_updated", "admin.doctor_verified"]

    for fee in ("-5", "NaN", "1.234"):
        bad_fee = web.post(f"/admin/doctors/{doctor.id}/edit", data={"clinic_id": "", "fee": fee})
        assert bad_fee.status_code == 422, fee
    unknown_clinic = web.post(
        f"/admin/doctors/{doctor.id}/edit", data={"clinic_id": "9999", "fee": "5"}
    )
    assert unknown_clinic.status_code == 422


def test_a_doctors_manager_edits_doctors_but_not_clinics(web):
    helper = make_helper("doctors.manage")
    doctor = make_doctor()
    sign_in(web, helper)

    assert web.get(f"/admin/doctors/{doctor.id}/edit").status_code == 200
    assert web.post(f"/admin/doctors/{doctor.id}/verify").status_code == 302
    assert db.session.get(Doctor, doctor.id).verified_at is not None
    assert web.get("/admin/clinics").status_code == 403
    assert web.post("/admin/clinics/new", data=CLINIC).status_code == 403
    assert web.post("/admin/specialties", data={"name": "X"}).status_code == 403
    assert web.get("/admin/audit").status_code == 403


def test_a_clinic_sets_its_reminder_times(web, admin):
    response = web.post("/admin/clinics/new", data={**CLINIC, "reminder_hours": "1.5, 48 0.5"})
    assert response.status_code == 302
    clinic = db.session.scalar(select(Clinic))
    assert clinic.reminder_offsets == [2880, 90, 30]  # minutes, longest first
    page = web.get(f"/admin/clinics/{clinic.id}/edit").get_data(as_text=True)
    assert 'value="48, 1.5, 0.5"' in page

    for bad in ("0", "500", "24, soon", "1 2 3 4 5"):
        response = web.post(
            f"/admin/clinics/{clinic.id}/edit", data={**CLINIC, "reminder_hours": bad}
        )
        assert response.status_code == 422, bad
        assert "reminder times in hours" in response.get_data(as_text=True)
    db.session.refresh(clinic)
    assert clinic.reminder_offsets == [2880, 90, 30]

    web.post(f"/admin/clinics/{clinic.id}/edit", data={**CLINIC, "reminder_hours": ""})
    db.session.refresh(clinic)
    assert clinic.reminder_offsets == []  # no reminders at all
