"""Messages over Socket.IO in two browsers (issue 10): a message arrives without a reload,
the typing line shows, the read receipt and the header badge change live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.models import Role
from app.services.chat import conversations
from tests.e2e.conftest import signed_in_context
from tests.factories import make_appointment, make_doctor, make_slot, make_user

pytestmark = pytest.mark.e2e


def test_a_message_its_typing_and_its_read_receipt_arrive_live(browser, one_process_server, ctx):
    doctor = make_doctor(name="Dr. Ines Moreau")
    patient = make_user(Role.PATIENT, email="leo@example.com", name="Leo Park")
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    make_appointment(make_slot(doctor, start=start), patient)
    conversation, _ = conversations.open_conversation(
        actor_id=patient.id, doctor_id=doctor.id, now=datetime.now(UTC)
    )
    thread = f"/messages/{conversation.id}"

    patient_context, patient_page = _open(browser, one_process_server, patient.email, thread)
    doctor_context, doctor_page = _open(browser, one_process_server, doctor.user.email, "/")
    badge = doctor_page.get_by_test_id("messages-count")
    expect(badge).to_be_hidden()

    patient_page.get_by_test_id("message-input").press_sequentially("Is the lab open early?")
    patient_page.get_by_test_id("send").click()
    expect(patient_page.get_by_test_id("receipt").last).to_have_text("Sent")
    expect(badge).to_have_text("1")  # pushed to the doctor's header, no reload, no poll

    doctor_page.goto(thread)
    doctor_page.wait_for_function(
        "() => window.carebookLive && window.carebookLive.user().connected"
    )
    expect(doctor_page.get_by_test_id("message-body").last).to_have_text("Is the lab open early?")
    expect(patient_page.get_by_test_id("receipt").last).to_have_text("Read")  # live receipt

    doctor_page.get_by_test_id("message-input").press_sequentially("From 7:30")
    expect(patient_page.get_by_test_id("typing")).to_be_visible()
    doctor_page.get_by_test_id("send").click()
    expect(patient_page.get_by_test_id("message-body").last).to_have_text("From 7:30")
    doctor_context.close()
    patient_context.close()


def _open(browser, base_url: str, email: str, path: str):
    context, page = signed_in_context(browser, base_url, email)
    page.goto(path)
    page.wait_for_function("() => window.carebookLive && window.carebookLive.user().connected")
    return context, page
