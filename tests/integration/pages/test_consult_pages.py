"""The consult pages: See a doctor now and its waiting page (patients), the dashboard's
on-call switch and request list (doctors)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Consult, ConsultStatus, Role
from app.services.consults import consults
from tests.factories import make_doctor, make_specialty, make_user


@pytest.fixture
def specialty(ctx):
    return make_specialty("Cardiology", "cardiology")


def _ask(patient, reason="Chest pain after running") -> Consult:
    return consults.request_consult(
        patient_id=patient.id,
        specialty="cardiology",
        reason=reason,
        payment_method="cash",
        now=datetime.now(UTC),
    )


def test_patient_asks_from_the_page_and_waits(client, auth, specialty):
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)

    form = client.get("/consults/new")
    assert form.status_code == 200
    assert "Cardiology" in form.get_data(as_text=True)
    response = client.post(
        "/consults/new",
        data={"specialty": "cardiology", "reason": "Palpitations", "payment_method": "cash"},
    )

    consult = db.session.scalar(select(Consult))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/consults/{consult.id}"
    page = client.get(f"/consults/{consult.id}").get_data(as_text=True)
    assert "Waiting for a doctor to accept" in page and "Palpitations" in page
    # While it waits, asking again leads back to it.
    assert client.get("/consults/new").headers["Location"] == f"/consults/{consult.id}"
    assert client.get(f"/consults/{consult.id}/state").get_json() == {
        "id": consult.id,
        "status": "waiting",
    }


def test_the_form_says_what_is_wrong(client, auth, specialty):
    auth.login(make_user(Role.PATIENT).email)
    response = client.post(
        "/consults/new", data={"specialty": "", "reason": "x" * 501, "payment_method": "cash"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose a specialty" in page
    assert db.session.scalar(select(Consult)) is None


def test_withdrawing_from_the_waiting_page(client, auth, specialty):
    patient = make_user(Role.PATIENT)
    consult = _ask(patient)
    auth.login(patient.email)

    response = client.post(f"/consults/{consult.id}/cancel", follow_redirects=True)

    assert "Your consult request was withdrawn" in response.get_data(as_text=True)
    assert db.session.get(Consult, consult.id).status is ConsultStatus.CANCELLED


def test_someone_elses_consult_is_a_404_and_doctors_cannot_ask(client, auth, specialty):
    consult = _ask(make_user(Role.PATIENT))
    auth.login(make_user(Role.PATIENT).email)
    assert client.get(f"/consults/{consult.id}").status_code == 404
    assert client.post(f"/consults/{consult.id}/cancel").status_code == 404
    auth.logout()
    auth.login(make_doctor(specialties=[specialty]).user.email)
    assert client.get("/consults/new").status_code == 403


def test_doctor_goes_on_call_sees_the_request_and_accepts_into_the_visit(client, auth, specialty):
    doctor = make_doctor(specialties=[specialty])
    patient = make_user(Role.PATIENT, name="Private Name")
    consult = _ask(patient)
    auth.login(doctor.user.email)

    off = client.get("/doctor/").get_data(as_text=True)
    assert "You are off call." in off and "Chest pain" not in off
    client.post("/doctor/on-call", data={"on_call": "1"})
    board = client.get("/doctor/").get_data(as_text=True)
    assert "You are on call." in board
    assert "Chest pain after running" in board and "Cardiology" in board
    assert "Private Name" not in board

    response = client.post(f"/doctor/consults/{consult.id}/accept")

    consult = db.session.get(Consult, consult.id)
    assert consult.status is ConsultStatus.ACCEPTED
    assert response.status_code == 302
    assert response.headers["Location"] == f"/visits/{consult.appointment_id}"
    auth.logout()
    auth.login(patient.email)
    waiting = client.get(f"/consults/{consult.id}")
    assert waiting.headers["Location"] == f"/visits/{consult.appointment_id}"


def test_a_taken_consult_is_said_so_on_the_dashboard(client, auth, specialty):
    first = make_doctor(specialties=[specialty], on_call=True)
    second = make_doctor(specialties=[specialty], on_call=True)
    consult = _ask(make_user(Role.PATIENT))
    consults.accept_consult(
        consult_id=consult.id, doctor_user_id=first.user_id, now=datetime.now(UTC)
    )
    auth.login(second.user.email)

    response = client.post(f"/doctor/consults/{consult.id}/accept", follow_redirects=True)

    assert "Another doctor has just taken this consult." in response.get_data(as_text=True)


def test_an_unverified_doctor_cannot_go_on_call(client, auth, specialty):
    doctor = make_doctor(specialties=[specialty], verified_at=None)
    auth.login(doctor.user.email)
    response = client.post("/doctor/on-call", data={"on_call": "1"}, follow_redirects=True)
    assert "not complete or not verified" in response.get_data(as_text=True)
    db.session.refresh(doctor)
    assert doctor.on_call is False
