"""A doctor opens one appointment: the patient's full note and profile, earlier visits with
this doctor, contact details, and private visit notes sealed at rest."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import AppointmentStatus, AuditLog, Role, VisitNote
from app.services import sealing
from app.services.accounts.tokens import issue_token
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_appointment, make_doctor, make_slot, make_user

LONG_NOTE = "Recurring headaches for three weeks, worse in the morning; " * 3 + "THE END."


def _soon(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def _patient(**profile):
    patient = make_user(Role.PATIENT, name="Ana Lima", phone="+14155550123")
    for key, value in profile.items():
        setattr(patient.patient_profile, key, value)
    db.session.commit()
    return patient


def _visit(doctor, patient, *, days=3, status=AppointmentStatus.CONFIRMED, notes=None):
    appointment = make_appointment(make_slot(doctor, start=_soon(days)), patient, status=status)
    appointment.notes = notes
    db.session.commit()
    return appointment


def test_doctor_sees_full_note_profile_contact_and_earlier_visits(client, auth):
    doctor = make_doctor()
    patient = _patient(
        date_of_birth=date(1990, 5, 17), insurer="Aetna", insurance_member_number="W123456789"
    )
    earlier = _visit(doctor, patient, days=-30, status=AppointmentStatus.COMPLETED, notes="Flu")
    other_doctor_visit = _visit(make_doctor(), patient, days=-20)
    appointment = _visit(doctor, patient, notes=LONG_NOTE)
    auth.login(doctor.user.email)

    day = appointment.starts_at.astimezone(ZoneInfo(doctor.clinic.timezone)).date()  # its day there
    dashboard = client.get(f"/doctor/?view=day&date={day}")
    assert f"/doctor/appointments/{appointment.id}" in dashboard.get_data(as_text=True)
    response = client.get(f"/doctor/appointments/{appointment.id}")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "THE END." in page  # the whole note, not cut at 80 characters
    assert "17 May 1990" in page and "Aetna" in page and "W123456789" in page
    assert patient.email in page and "+14155550123" in page
    previous = page.split('data-testid="previous-visits"')[1]
    assert f"/doctor/appointments/{earlier.id}" in previous
    assert f"/doctor/appointments/{other_doctor_visit.id}" not in previous


def test_a_doctor_without_an_appointment_with_the_patient_gets_404(client, auth):
    patient = _patient(date_of_birth=date(1990, 5, 17), insurer="Aetna")
    appointment = _visit(make_doctor(), patient)
    stranger = make_doctor()
    auth.login(stranger.user.email)

    response = client.get(f"/doctor/appointments/{appointment.id}")
    assert response.status_code == 404
    assert "Aetna" not in response.get_data(as_text=True)
    noted = client.post(f"/doctor/appointments/{appointment.id}/notes", data={"text": "x"})
    assert noted.status_code == 404
    assert db.session.scalars(select(VisitNote)).first() is None


def test_visit_notes_are_sealed_audited_and_never_shown_to_the_patient(client, auth):
    doctor = make_doctor()
    patient = _patient()
    appointment = _visit(doctor, patient)
    auth.login(doctor.user.email)

    response = client.post(
        f"/doctor/appointments/{appointment.id}/notes", data={"text": "Suspect migraine."}
    )
    assert response.status_code == 302
    assert "Suspect migraine." in client.get(response.headers["Location"]).get_data(as_text=True)

    note = db.session.scalars(select(VisitNote)).one()
    assert "migraine" not in note.body_sealed and note.body_sealed.startswith(sealing.PREFIX)
    assert sealing.unseal(note.body_sealed) == "Suspect migraine."
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "visit_note.added")).one()
    assert entry.actor_id == doctor.user.id and entry.target_id == str(appointment.id)
    assert "migraine" not in str(entry.data)

    # The patient: not on their pages, not in the API, not on the doctor's page.
    auth.logout()
    auth.login(patient.email)
    assert "migraine" not in client.get("/appointments").get_data(as_text=True)
    assert client.get(f"/doctor/appointments/{appointment.id}").status_code == 403
    token = issue_token(patient, secret_key=TEST_SECRET_KEY, ttl_seconds=60, now=datetime.now(UTC))
    api = client.get(
        f"/api/v1/appointments/{appointment.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200 and "migraine" not in api.get_data(as_text=True)


def test_an_empty_note_is_refused(client, auth):
    doctor = make_doctor()
    appointment = _visit(doctor, _patient())
    auth.login(doctor.user.email)

    response = client.post(f"/doctor/appointments/{appointment.id}/notes", data={"text": "  "})
    assert response.status_code == 422
    assert db.session.scalars(select(VisitNote)).first() is None
