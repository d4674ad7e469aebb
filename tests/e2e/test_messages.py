"""Messages between a patient and their doctor (issue 10), through the pages: the patient
writes from the appointment, the doctor's badge rises (the page polls), the doctor reads and
answers, and the patient sees the answer and the read receipt. (Live delivery over Socket.IO
is in test_live_messages.py; here the pages poll and reload.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import make_appointment, make_doctor, make_slot, make_user

pytestmark = pytest.mark.e2e
PHONE = {"width": 375, "height": 740}


def test_patient_and_doctor_exchange_messages_and_the_badge_follows(browser, live_server, ctx):
    doctor = make_doctor(name="Dr. Maya Patel")
    patient = make_user(Role.PATIENT, email="ana@example.com", name="Ana Lima")
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    appointment = make_appointment(make_slot(doctor, start=start), patient)

    doctor_context = browser.new_context(base_url=live_server)
    doctor_context.set_default_timeout(10_000)
    doctor_page = doctor_context.new_page()
    doctor_page.clock.install()  # the badge's 20-second poll, without waiting for it
    sign_in(doctor_page, doctor.user.email)
    doctor_page.goto("/doctor/")
    badge = doctor_page.get_by_test_id("messages-count")
    expect(badge).to_be_hidden()

    patient_context = browser.new_context(base_url=live_server, viewport=PHONE)
    patient_context.set_default_timeout(10_000)
    patient_page = patient_context.new_page()
    sign_in(patient_page, patient.email)
    patient_page.goto(f"/appointments/{appointment.id}")
    patient_page.get_by_role("button", name="Message Dr. Maya Patel").click()
    expect(patient_page.get_by_role("heading", name="Dr. Maya Patel")).to_be_visible()
    patient_page.get_by_test_id("message-input").fill("Should I fast before the visit? <b>x</b>")
    patient_page.get_by_test_id("send").click()
    mine = patient_page.get_by_test_id("message").last
    expect(mine.get_by_test_id("message-body")).to_have_text(
        "Should I fast before the visit? <b>x</b>"
    )
    expect(mine.get_by_test_id("receipt")).to_have_text("Sent")
    expect(patient_page.get_by_test_id("message-form")).to_be_in_viewport()
    # The patient leaves the thread: a reply that arrives while it is open is read at once.
    patient_page.goto("/")

    # The doctor's page learns of it by its poll.
    doctor_page.clock.run_for(21_000)
    expect(badge).to_have_text("1")
    expect(doctor_page.get_by_test_id("messages-link")).to_have_accessible_name(
        "Messages, 1 unread"
    )
    doctor_page.get_by_test_id("messages-link").click()
    expect(doctor_page.get_by_test_id("conversation-unread")).to_contain_text("1")
    doctor_page.get_by_test_id("conversation").get_by_role("link").click()
    expect(doctor_page.get_by_test_id("message-body").last).to_have_text(
        "Should I fast before the visit? <b>x</b>"
    )
    expect(badge).to_be_hidden()  # reading it cleared the count
    doctor_page.get_by_test_id("message-input").fill("No need. See you Tuesday.")
    doctor_page.get_by_test_id("send").click()
    expect(doctor_page.get_by_test_id("message-body").last).to_have_text(
        "No need. See you Tuesday."
    )
    doctor_context.close()

    patient_page.goto("/")  # this shared server has two processes and no message queue: reload
    expect(patient_page.get_by_test_id("messages-count")).to_have_text("1")
    patient_page.get_by_test_id("messages-link").click()
    patient_page.get_by_test_id("conversation").get_by_role("link").click()
    expect(patient_page.get_by_test_id("message-body").last).to_have_text(
        "No need. See you Tuesday."
    )
    expect(patient_page.get_by_test_id("receipt").first).to_have_text("Read")
    expect(patient_page.get_by_test_id("messages-count")).to_be_hidden()
    patient_page.screenshot(path="/tmp/carebook-messages-375.png", full_page=True)
    patient_context.close()
