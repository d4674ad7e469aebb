"""The bell in the header (issue 9): its count rises when the doctor approves the patient's
request, without a reload (the page polls), and falls when the patient opens the notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.models import AppointmentStatus, Role
from tests.e2e.conftest import sign_in
from tests.factories import (
    make_appointment,
    make_doctor,
    make_notification,
    make_slot,
    make_user,
)

pytestmark = pytest.mark.e2e
PHONE = {"width": 375, "height": 740}


def _days_ahead(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def test_the_bell_rises_on_approval_and_falls_when_the_patient_reads_it(browser, live_server, ctx):
    doctor = make_doctor(name="Dr. Maya Patel", requires_approval=True)
    patient = make_user(Role.PATIENT, email="ana@example.com", name="Ana Lima")
    earlier = make_appointment(make_slot(doctor, start=_days_ahead(4)), patient)
    make_notification(patient, "appointment.confirmed", appointment=earlier)
    request = make_appointment(
        make_slot(doctor, start=_days_ahead(3)), patient, status=AppointmentStatus.PENDING_APPROVAL
    )

    patient_context = browser.new_context(base_url=live_server, viewport=PHONE)
    patient_context.set_default_timeout(10_000)
    patient_page = patient_context.new_page()
    patient_page.clock.install()  # the 30-second poll, without waiting 30 seconds
    sign_in(patient_page, patient.email)
    patient_page.goto("/appointments")
    bell = patient_page.get_by_test_id("bell")
    expect(bell).to_have_accessible_name("Notifications, 1 unread")
    expect(patient_page.get_by_test_id("bell-count")).to_have_text("1")
    expect(bell).to_be_in_viewport()

    doctor_context = browser.new_context(base_url=live_server)
    doctor_context.set_default_timeout(10_000)
    doctor_page = doctor_context.new_page()
    sign_in(doctor_page, doctor.user.email)
    doctor_page.goto("/doctor/")
    doctor_page.get_by_test_id("pending").get_by_role("button", name="Approve").click()
    expect(doctor_page.get_by_role("status")).to_contain_text("Approved: Ana Lima")
    doctor_context.close()

    # No reload: the poll brings the new count.
    patient_page.clock.run_for(31_000)
    expect(bell).to_have_accessible_name("Notifications, 2 unread")
    expect(patient_page.get_by_test_id("bell-count")).to_have_text("2")
    patient_page.screenshot(path="/tmp/carebook-bell-375.png")

    bell.click()
    expect(patient_page.get_by_role("heading", name="Notifications")).to_be_visible()
    newest = patient_page.get_by_test_id("notification").first
    expect(newest).to_contain_text("Approved: Visit with Dr. Maya Patel")
    expect(newest).to_have_class("unread")
    patient_page.screenshot(path="/tmp/carebook-inbox-375.png", full_page=True)
    newest.get_by_role("link").click()

    expect(patient_page).to_have_url(f"{live_server}/appointments/{request.id}")
    expect(patient_page.get_by_test_id("bell")).to_have_accessible_name("Notifications, 1 unread")
    patient_context.close()
