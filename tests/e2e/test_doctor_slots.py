"""A doctor publishes a week of slots from a pattern and manages bookings in a real browser."""

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import AppointmentStatus, Role, Slot
from tests.factories import PASSWORD, make_appointment, make_clinic, make_doctor, make_user

pytestmark = pytest.mark.e2e

MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _shoot(page, name: str) -> None:
    """A desktop and a phone screenshot of the current page, for a person to look at."""
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=f"/tmp/carebook-doctor-{name}.png", full_page=True)
    page.set_viewport_size(MOBILE)
    page.screenshot(path=f"/tmp/carebook-doctor-{name}-mobile.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_doctor_creates_a_week_of_slots_in_bulk_and_sees_them(ctx, page):
    clinic = make_clinic(name="Hudson Street Clinic", timezone="America/New_York")
    doctor = make_doctor(clinic=clinic, name="Dr. Maya Patel", requires_approval=True)
    page.set_viewport_size(DESKTOP)
    page.goto("/login")
    page.get_by_label("Email").fill(doctor.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Availability").click()
    page.get_by_role("button", name="Add a weekly pattern").click()
    page.get_by_label("Day starts").fill("09:00")
    page.get_by_label("Day ends").fill("17:00")
    page.get_by_label("Slot length (minutes)").fill("60")
    page.get_by_label("Breaks").fill("12:00-13:00")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Preview: 35 slots to create")).to_be_visible()
    assert db.session.scalars(select(Slot)).first() is None  # a preview writes nothing
    _shoot(page, "bulk-preview")

    page.get_by_role("button", name="Create 35 slots").click()

    expect(page.get_by_role("status")).to_contain_text("Created 35 slots; skipped 0.")
    expect(page.get_by_test_id("slot")).to_have_count(35)
    expect(page.get_by_test_id("slot").first).to_contain_text("09:00")
    expect(page.get_by_test_id("week-summary")).to_contain_text("35 slots · 35 open")

    # Patients book some of them; the doctor sees the bookings and approves one.
    slots = db.session.scalars(select(Slot).order_by(Slot.start_at)).all()
    names = ["Ana Lima", "Ben Okafor", "Chloé Martin", "Dev Sharma", "Eva Novak", "Femi Ade"]
    for index, name in zip((0, 2, 3, 8, 16, 30), names, strict=True):
        status = AppointmentStatus.PENDING_APPROVAL if index == 2 else AppointmentStatus.CONFIRMED
        make_appointment(slots[index], make_user(Role.PATIENT, name=name), status=status)
    page.reload()
    expect(page.get_by_test_id("slot-state").filter(has_text="booked")).to_have_count(6)
    _shoot(page, "slots")

    monday = slots[0].start_at.astimezone(ZoneInfo(clinic.timezone)).date()
    page.goto(f"/doctor/?view=day&date={monday.isoformat()}")
    expect(page.get_by_test_id("day-list").get_by_test_id("appointment")).to_have_count(3)
    pending = page.get_by_test_id("pending")
    pending.get_by_text("Reject…").click()  # opens the reason field
    expect(pending.get_by_label("Reason for rejecting (optional)")).to_be_visible()
    _shoot(page, "dashboard-day")
    pending.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Approved: Ben Okafor")
    expect(page.get_by_test_id("pending")).to_contain_text("Nothing is waiting")

    page.get_by_role("button", name="Week", exact=True).click()
    expect(page.get_by_test_id("week-grid").get_by_test_id("appointment")).to_have_count(6)
    _shoot(page, "dashboard-week")


def test_doctor_adds_one_slot_and_an_overlap_is_explained(ctx, page):
    doctor = make_doctor(name="Dr. Sam Reyes")
    page.goto("/login")
    page.get_by_label("Email").fill(doctor.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Availability").click()
    page.get_by_role("button", name="Next week ›").click()
    page.get_by_role("link", name="Add a slot on").first.click()

    for attempt in ("saved", "overlap"):
        page.get_by_label("Start time").fill("09:00")
        page.get_by_label("End time").fill("09:30")
        page.get_by_label("Mode").select_option("video")
        page.get_by_role("button", name="Save slot").click()
        if attempt == "saved":
            expect(page.get_by_role("status")).to_contain_text("Slot saved:")
            expect(page.get_by_test_id("slot")).to_have_count(1)
            expect(page.get_by_test_id("slot")).to_contain_text("Video")
            page.get_by_role("button", name="Edit").click()
            expect(page.get_by_label("Start time")).to_have_value("09:00")
            page.get_by_role("link", name="Back to availability").click()
            page.get_by_role("link", name="Add a slot on").first.click()
    expect(page.get_by_role("alert")).to_have_text(
        "That time overlaps another slot of this doctor."
    )
    _shoot(page, "slot-form")
