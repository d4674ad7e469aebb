"""Times are shown in the clinic's zone, with the viewer's own time beside them when the
viewer's zone differs."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.factories import PASSWORD, make_clinic, make_doctor, make_slot, make_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def confirm_page(ctx, browser, live_server):
    """Opens the booking page of a 09:00 New York slot in a browser set to `zone`."""
    clinic = make_clinic(timezone="America/New_York")
    slot = make_slot(make_doctor(clinic=clinic), start=datetime(2031, 3, 10, 13, 0, tzinfo=UTC))
    patient = make_user(Role.PATIENT)
    contexts = []

    def open_in(zone: str):
        context = browser.new_context(base_url=live_server, timezone_id=zone)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(patient.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/book/{slot.id}")
        return page

    yield open_in
    for context in contexts:
        context.close()


def test_a_viewer_in_another_zone_sees_their_own_time_too(confirm_page):
    page = confirm_page("Europe/Berlin")
    expect(page.get_by_test_id("slot-time")).to_contain_text("Mon 10 Mar 2031, 09:00 EDT")
    expect(page.get_by_test_id("slot-time")).to_contain_text("(14:00 your time)")
    page.screenshot(path="/tmp/carebook-local-times.png")


def test_a_viewer_in_the_clinics_zone_sees_just_the_clinic_time(confirm_page):
    page = confirm_page("America/New_York")
    expect(page.get_by_test_id("slot-time")).to_contain_text("09:00 EDT")
    expect(page.get_by_test_id("slot-time")).not_to_contain_text("your time")
