"""Issue 17 in a real browser: the no-change window is shown and must be accepted before
booking or moving into it; the home search carries a day to the doctor page; the
reschedule picker goes day by day; the confirmation page is styled and complete."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.models import Role, SlotMode
from tests.e2e.conftest import sign_in
from tests.factories import (
    make_appointment,
    make_clinic,
    make_doctor,
    make_slot,
    make_user,
)

pytestmark = pytest.mark.e2e

NEW_YORK = ZoneInfo("America/New_York")


def _at(days: int, hour: int) -> datetime:
    day = datetime.now(NEW_YORK).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK).astimezone(UTC)


def _world():
    clinic = make_clinic(
        name="Harbor Health",
        address="120 Water Street",
        timezone="America/New_York",
        cancellation_window_hours=24,
    )
    doctor = make_doctor(clinic=clinic, name="Dr. Ada Lovelace")
    soon = make_slot(doctor, start=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3))
    patient = make_user(Role.PATIENT, name="Ana Lima", email="ana.trust@example.com")
    return doctor, soon, patient


def test_booking_inside_the_window_shows_the_policy_and_needs_the_checkbox(ctx, page):
    doctor, soon, patient = _world()
    sign_in(page, patient.email)

    page.goto(f"/doctors/{doctor.id}")
    expect(page.get_by_test_id(f"changes-closed-{soon.id}")).to_have_text("changes closed")
    page.get_by_test_id(f"slot-{soon.id}").click()
    expect(page.get_by_test_id("policy-terms")).to_contain_text("24 hours before the visit")
    expect(page.get_by_test_id("inside-window")).to_be_visible()

    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("alert").first).to_contain_text("Please confirm that you accept this")
    page.get_by_label("I understand this time is inside").check()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("status")).to_contain_text("Booked: Dr. Ada Lovelace")


def test_reschedule_picker_goes_day_by_day_and_guards_the_window(ctx, page):
    doctor, soon, patient = _world()
    current = make_appointment(make_slot(doctor, start=_at(4, 10)), patient)
    make_slot(doctor, start=_at(12, 9))
    sign_in(page, patient.email)

    page.goto(f"/appointments/{current.id}/reschedule")
    expect(page.locator(".reschedule-picker fieldset.day")).to_have_count(7)
    expect(page.get_by_test_id(f"changes-closed-{soon.id}")).to_be_visible()
    page.locator(f"input[name=slot_id][value='{soon.id}']").check()
    page.get_by_role("button", name="Move my appointment").click()
    expect(page.get_by_role("alert").first).to_contain_text("no-change window")
    page.locator(f"input[name=slot_id][value='{soon.id}']").check()
    page.get_by_label("I understand this time is inside").check()
    page.get_by_role("button", name="Move my appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Rescheduled: Dr. Ada Lovelace")


def test_home_search_by_day_leads_to_that_days_times(ctx, page):
    doctor, _, patient = _world()
    later = make_slot(doctor, start=_at(5, 14))
    day = _at(5, 14).astimezone(NEW_YORK).date()

    page.goto("/")
    page.get_by_label("Free on").fill(day.isoformat())
    page.get_by_role("button", name="Search doctors").click()
    result = page.get_by_test_id("doctor-result")
    expect(result).to_contain_text(f"{day:%a %d %b %Y}, 14:00")
    result.get_by_role("button", name=f"See {day:%a %d %b} and book").click()
    expect(page.get_by_test_id(f"day-{day.isoformat()}")).to_have_attribute("aria-current", "date")
    expect(page.get_by_test_id(f"slot-{later.id}")).to_be_visible()


def test_the_confirmation_page_is_styled_and_says_where_how_and_when(ctx, page):
    doctor, _, patient = _world()
    appointment = make_appointment(
        make_slot(doctor, start=_at(5, 10), mode=SlotMode.VIDEO), patient
    )
    sign_in(page, patient.email)

    page.goto(f"/checkout/{appointment.id}/done")
    expect(page.locator("dl.facts")).to_have_css("display", "grid")  # patient.css loaded
    expect(page.get_by_test_id("clinic-address")).to_contain_text("120 Water Street")
    expect(page.get_by_test_id("visit-type")).to_have_text("Video call")
    expect(page.get_by_test_id("ics-link")).to_have_attribute(
        "href", f"/appointments/{appointment.id}.ics"
    )
