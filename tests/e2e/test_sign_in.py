"""A person signs in with the demo patient account in a real browser."""

import pytest
from playwright.sync_api import expect

from app import demo

pytestmark = pytest.mark.e2e


def test_demo_patient_signs_in_and_sees_the_home_page(runner, page):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0

    page.goto("/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(demo.DEMO_LOGINS["patient"])
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_test_id("patient-greeting")).to_contain_text("Hello Pat Demo")
    expect(page.get_by_role("heading", name="Find a doctor and book a visit")).to_be_visible()
    expect(page.get_by_role("link", name="Find a doctor")).to_be_visible()
    page.screenshot(path="/tmp/carebook-home.png")


def test_wrong_password_shows_the_error_on_the_form(runner, page):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    page.goto("/login")
    page.get_by_label("Email").fill(demo.DEMO_LOGINS["patient"])
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
