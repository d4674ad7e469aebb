"""An admin in Chromium: finds an appointment by the patient's name, reads its history and
cancels it on the clinic's behalf; then rewrites the cancellation policy and reads it, cleaned
of a script, at /policies/cancellation-policy from the footer. Screenshots go to
/tmp/carebook-admin-panel-*.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import AppointmentStatus, Role
from app.services import content
from tests.e2e.conftest import sign_in
from tests.factories import (
    make_appointment,
    make_clinic,
    make_doctor,
    make_slot,
    make_user,
)

pytestmark = pytest.mark.e2e

TOTP_SECRET = "RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO"


def test_admin_cancels_an_appointment_and_rewrites_the_cancellation_policy(page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda dialog: dialog.accept())  # "Cancel appointment #… for …?"
    make_user(Role.ADMIN, email="ada@example.com", name="Ada Admin", totp_secret=TOTP_SECRET)
    doctor = make_doctor(clinic=make_clinic(name="Harbour Clinic"), name="Dr Rosa Diaz")
    start = (datetime.now(UTC) + timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
    patient = make_user(Role.PATIENT, name="Peter Parker", email="peter@example.com")
    appointment = make_appointment(make_slot(doctor, start=start), patient)
    make_appointment(make_slot(doctor, start=start + timedelta(hours=2)))  # someone else's
    content.ensure_default_pages(now=datetime.now(UTC))
    db.session.commit()

    sign_in(page, "ada@example.com", totp_secret=TOTP_SECRET)

    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Appointments").first.click()
    expect(page.get_by_test_id("appointment-row")).to_have_count(2)
    page.get_by_label("Patient (name or email)").fill("parker")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("appointment-row")).to_have_count(1)
    expect(page.get_by_test_id("appointment-row")).to_contain_text("Peter Parker")
    page.screenshot(path="/tmp/carebook-admin-panel-search.png", full_page=True)

    page.get_by_role("link", name=f"#{appointment.id}").click()
    expect(page.get_by_role("heading", name=f"Appointment #{appointment.id}")).to_be_visible()
    page.get_by_label("Reason (shown to the patient)").fill("The clinic is closed for repairs")
    page.get_by_test_id("clinic-cancel-submit").click()
    expect(page.get_by_role("status")).to_contain_text("cancelled on the clinic's behalf")
    expect(page.get_by_test_id("appointment-status").first).to_have_text("cancelled")
    expect(
        page.get_by_test_id("history-row").filter(has_text="appointment.cancelled")
    ).to_contain_text("Ada Admin")
    expect(page.get_by_test_id("appointment-notification-row").first).to_contain_text(
        "appointment.cancelled"
    )
    page.screenshot(path="/tmp/carebook-admin-panel-appointment.png", full_page=True)
    db.session.expire_all()
    assert db.session.get(type(appointment), appointment.id).status is AppointmentStatus.CANCELLED

    page.get_by_role("link", name="Pages").first.click()
    page.get_by_test_id("content-pages").get_by_role("link", name="Cancellation policy").click()
    page.get_by_label("Text (Markdown)").fill(
        "Cancel **up to 48 hours** before.\n\n<script>document.title='pwned'</script>"
    )
    page.get_by_role("button", name="Save page").click()
    expect(page.get_by_role("status")).to_contain_text("published")
    page.screenshot(path="/tmp/carebook-admin-panel-page-editor.png", full_page=True)

    page.goto("/")
    page.get_by_role("contentinfo").get_by_role("link", name="Cancellation policy").click()
    expect(page).to_have_url(f"{page.url.split('/policies')[0]}/policies/cancellation-policy")
    policy = page.get_by_test_id("policy-page")
    expect(policy.locator("strong")).to_have_text("up to 48 hours")
    assert page.title() != "pwned" and "document.title" not in policy.inner_html()
    page.screenshot(path="/tmp/carebook-admin-panel-policy.png", full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e], errors
