"""Live pages in Chromium: a doctor's page marks a slot taken by another patient, and the
doctor's dashboard shows the new booking, without a reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from playwright.sync_api import expect

from app.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, make_doctor, make_slot, make_user


def _book_through_the_api(base_url: str, email: str, slot_id: int) -> dict:
    token = requests.post(
        f"{base_url}/api/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=10
    ).json()["access_token"]
    response = requests.post(
        f"{base_url}/api/v1/appointments",
        json={"slot_id": slot_id, "payment_method": "cash"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_second_patients_page_sees_a_slot_become_taken_live(browser, one_process_server, ctx):
    doctor = make_doctor(name="Dr. Live")
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=9, minute=0, second=0)
    slot = make_slot(doctor, start=start.replace(microsecond=0))
    first = make_user(Role.PATIENT, email="first@example.com")
    second = make_user(Role.PATIENT, email="second@example.com")

    context = browser.new_context(base_url=one_process_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, second.email)
    page.goto(f"/doctors/{doctor.id}?week={start.date().isoformat()}")
    link = page.get_by_test_id(f"slot-{slot.id}")
    expect(link).to_have_attribute("href", f"/book/{slot.id}")
    page.wait_for_function("() => window.carebookLive.publicFeed().connected")
    page.wait_for_timeout(300)  # watch_doctor is acknowledged right after connecting

    _book_through_the_api(one_process_server, first.email, slot.id)
    expect(link).to_have_class("slot taken")
    expect(link).not_to_have_attribute("href", f"/book/{slot.id}")
    expect(link).to_have_attribute("aria-disabled", "true")
    context.close()


def test_the_doctors_dashboard_shows_a_new_booking_live(browser, one_process_server, ctx):
    doctor = make_doctor(name="Dr. Board", requires_approval=True)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=10, minute=0, second=0)
    slot = make_slot(doctor, start=start.replace(microsecond=0))
    patient = make_user(Role.PATIENT, email="asker@example.com", name="Ada Asker")

    context = browser.new_context(base_url=one_process_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, doctor.user.email)
    page.goto("/doctor/")
    expect(page.get_by_test_id("pending")).to_contain_text("Nothing is waiting")
    page.wait_for_function("() => window.carebookLive.user().connected")

    _book_through_the_api(one_process_server, patient.email, slot.id)
    expect(page.get_by_test_id("pending")).to_contain_text("Ada Asker")
    expect(page.get_by_test_id("live-notice")).to_contain_text("needs your approval")
    context.close()
