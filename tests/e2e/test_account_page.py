"""The account page on a phone: nothing runs off the screen, sessions are named, and the
patient's profile is kept there."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Role
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport=PHONE, user_agent=CHROME_WINDOWS)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def test_account_page_fits_a_phone_and_names_the_browser(ctx, phone_page):
    page = phone_page
    patient = make_user(
        Role.PATIENT,
        name="Maria Fernanda Albuquerque de Oliveira",
        email="maria.fernanda.albuquerque.de.oliveira@example.com",
        phone="+5511987654321",
    )
    page.goto("/login")
    page.get_by_label("Email").fill(patient.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto("/account")
    expect(page.get_by_test_id("session-browser")).to_contain_text("Chrome on Windows")
    expect(page.get_by_test_id("sessions")).not_to_contain_text("Mozilla/5.0")
    page.screenshot(path="/tmp/carebook-account-phone.png", full_page=True)
    _no_horizontal_scroll(page)

    # The profile: name, date of birth and insurer, kept on the account page.
    page.get_by_test_id("profile").get_by_role("link", name="Change").first.click()
    page.get_by_label("Full name").fill("Maria F. Oliveira")
    page.get_by_label("Date of birth").fill("1988-02-29")
    page.get_by_label("Health insurer (optional)").fill("Bradesco Saúde")
    page.get_by_label("Member number (optional)").fill("889 0012 3456")
    _no_horizontal_scroll(page)
    page.get_by_role("button", name="Save profile").click()

    expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
    expect(page.get_by_test_id("profile-name")).to_have_text("Maria F. Oliveira")
    expect(page.get_by_test_id("profile-dob")).to_have_text("29 Feb 1988")
    expect(page.get_by_test_id("profile-insurer")).to_have_text("Bradesco Saúde · 889 0012 3456")
    _no_horizontal_scroll(page)
    db.session.expire_all()
