"""See a doctor now, in Chromium: a patient asks for a consult, an on-call doctor's dashboard
shows it live, the doctor accepts, and both pages go to the video visit (/visits/<id>; the
room itself is the visits area's)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import requests
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Consult, Role
from app.services.accounts.tokens import issue_token
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.conftest import signed_in_context
from tests.factories import make_doctor, make_specialty, make_user

CONNECTED = "() => window.carebookLive && window.carebookLive.user().connected"


def _token(user) -> str:
    return issue_token(user, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=datetime.now(UTC))


def _post(base_url: str, token: str, path: str, body: dict) -> dict:
    response = requests.post(
        f"{base_url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_patient_asks_doctor_sees_it_live_accepts_and_both_go_to_the_visit(
    browser, one_process_server, ctx
):
    specialty = make_specialty("General practice", "general-practice")
    doctor = make_doctor(name="Dr. On Call", specialties=[specialty])
    patient = make_user(Role.PATIENT, email="urgent@example.com", name="Una Urgent")

    doctor_context, board = signed_in_context(browser, one_process_server, doctor.user.email)
    board.goto("/doctor/")
    board.get_by_test_id("on-call-toggle").click()
    expect(board.get_by_test_id("on-call-state")).to_have_text("You are on call.")
    expect(board.get_by_test_id("consults-empty")).to_be_visible()
    board.wait_for_function(CONNECTED)

    patient_context, asking = signed_in_context(browser, one_process_server, patient.email)
    asking.goto("/")
    asking.get_by_test_id("see-a-doctor-now").click()
    asking.get_by_label("Specialty").select_option("general-practice")
    asking.get_by_label("What is it about?").fill("Sore throat and fever since last night")
    asking.get_by_role("button", name="Ask for a doctor now").click()
    expect(asking.get_by_test_id("consult-status")).to_have_text("Waiting for a doctor to accept…")
    asking.wait_for_function(CONNECTED)
    consult_id = db.session.scalar(select(Consult.id))

    request = board.get_by_test_id(f"consult-{consult_id}")
    expect(request).to_contain_text("General practice")
    expect(request).to_contain_text("Sore throat and fever since last night")
    expect(request).not_to_contain_text("Una Urgent")  # the request does not name the patient
    expect(board.get_by_test_id("consult-count")).to_have_text("1")

    request.get_by_role("button", name="Accept and start the video visit").click()

    board.wait_for_url(re.compile(r"/visits/\d+$"))
    appointment_id = int(board.url.rsplit("/", 1)[1])
    asking.wait_for_url(f"**/visits/{appointment_id}")
    db.session.expire_all()
    consult = db.session.get(Consult, consult_id)
    assert consult.status.value == "accepted" and consult.appointment_id == appointment_id
    doctor_context.close()
    patient_context.close()


def test_a_request_another_doctor_takes_leaves_the_dashboard_live(browser, one_process_server, ctx):
    specialty = make_specialty("Dermatology", "dermatology")
    watching = make_doctor(name="Dr. Watching", specialties=[specialty], on_call=True)
    taking = make_doctor(name="Dr. Taking", specialties=[specialty], on_call=True)
    patient = make_user(Role.PATIENT, email="rash@example.com")
    taker_token, patient_token = _token(taking.user), _token(patient)

    context, board = signed_in_context(browser, one_process_server, watching.user.email)
    board.goto("/doctor/")
    board.wait_for_function(CONNECTED)

    # The patient asks and the other doctor takes it, through the API of the same server.
    asked = _post(one_process_server, patient_token, "/api/v1/consults",
                  {"specialty": "dermatology", "payment_method": "cash"})  # fmt: skip
    item = board.get_by_test_id(f"consult-{asked['id']}")
    expect(item).to_contain_text("Dermatology")
    expect(board.get_by_test_id("consult-count")).to_have_text("1")

    _post(one_process_server, taker_token, f"/api/v1/consults/{asked['id']}/accept", {})
    expect(item).to_have_count(0)
    expect(board.get_by_test_id("consult-notice")).to_have_text("A consult was taken")
    expect(board.get_by_test_id("consults-empty")).to_be_visible()
    context.close()
