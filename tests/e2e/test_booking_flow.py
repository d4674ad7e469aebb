"""A patient finds a doctor, books a free time, sees it, cancels it: in a real browser, with
CSRF on, against gunicorn on the test database."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Role, Specialty
from tests.factories import PASSWORD, make_clinic, make_doctor, make_slot, make_user

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}


def _shoot(page: Page, name: str) -> None:
    """Each main page at desktop and phone width, for a person to look at."""
    for label, size in (("desktop", DESKTOP), ("mobile", MOBILE)):
        page.set_viewport_size(size)
        page.screenshot(path=f"/tmp/carebook-patient-{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def _data():
    """A doctor with two free times in two days' time (New York), and a patient."""
    clinic = make_clinic(name="Harbor Health", city="New York", timezone="America/New_York")
    doctor = make_doctor(clinic=clinic, name="Dr. Ada Lovelace", fee_amount=9000)
    doctor.specialties = [Specialty(name="Cardiology", slug="cardiology")]
    db.session.commit()
    tz = ZoneInfo(clinic.timezone)
    day = datetime.now(tz).date() + timedelta(days=2)
    slots = [
        make_slot(doctor, start=datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC))
        for hour in (10, 11)
    ]
    patient = make_user(Role.PATIENT, name="Ana Lima", email="ana@example.com")
    return doctor, slots, patient


def test_patient_books_sees_and_cancels_and_the_slot_is_free_again(ctx, page):
    doctor, (slot, _), patient = _data()

    page.goto("/login")
    page.get_by_label("Email").fill(patient.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    _shoot(page, "home")

    page.get_by_label("Doctor's name").fill("Lovelace")
    page.get_by_role("button", name="Search doctors").click()
    expect(page.get_by_test_id("doctor-result")).to_have_count(1)
    expect(page.get_by_test_id("doctor-result")).to_contain_text("USD 90.00")
    _shoot(page, "search")

    page.get_by_role("link", name="Dr. Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Dr. Ada Lovelace")).to_be_visible()
    expect(page.get_by_test_id(f"slot-{slot.id}")).to_contain_text("10:00 E")
    _shoot(page, "doctor")

    page.get_by_test_id(f"slot-{slot.id}").click()
    expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
    # This server has no card payments configured: only cash is offered, and chosen.
    expect(page.get_by_label("Pay by card now")).to_have_count(0)
    expect(page.get_by_label("Pay at the clinic (cash)")).to_be_checked()
    page.get_by_label("Notes for the doctor (optional)").fill("First visit")
    _shoot(page, "book")
    page.get_by_label("Pay at the clinic (cash)").check()
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("status")).to_contain_text("Booked: Dr. Ada Lovelace")
    expect(page.get_by_test_id("appointment-time")).to_contain_text("10:00 E")
    _shoot(page, "appointment")

    page.get_by_role("link", name="My appointments", exact=True).click()
    card = page.locator("[data-testid^=appointment-]")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Dr. Ada Lovelace")
    expect(card).to_contain_text("Confirmed")
    _shoot(page, "appointments")

    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel your appointment ...?"
    card.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("status")).to_contain_text("Cancelled: Dr. Ada Lovelace")
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()

    page.goto(f"/doctors/{doctor.id}")
    expect(page.get_by_test_id(f"slot-{slot.id}")).to_be_visible()


def test_reschedule_page_moves_the_visit(ctx, page):
    doctor, (first, second), patient = _data()
    page.goto("/login")
    page.get_by_label("Email").fill(patient.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/book/{first.id}")
    page.get_by_label("Pay at the clinic (cash)").check()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("status")).to_contain_text("Booked")

    page.get_by_role("button", name="Reschedule").click()
    page.locator(f"input[name=slot_id][value='{second.id}']").check()
    _shoot(page, "reschedule")
    page.get_by_role("button", name="Move my appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Rescheduled: Dr. Ada Lovelace")
    expect(page.get_by_test_id("appointment-time")).to_contain_text("11:00 E")

    page.goto(f"/doctors/{doctor.id}")
    expect(page.get_by_test_id(f"slot-{first.id}")).to_be_visible()
    expect(page.get_by_test_id(f"slot-{second.id}")).to_have_count(0)


def test_use_my_location_fills_the_near_me_search(ctx, page):
    _data()  # the clinic is at 40.71, -74.0
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 40.72, "longitude": -74.0})
    page.goto("/doctors")
    page.get_by_text("Near me").click()
    page.get_by_role("button", name="Use my location").click()
    expect(page.get_by_label("Latitude")).to_have_value("40.7200")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_test_id("doctor-result")).to_contain_text("1.1 km away")
