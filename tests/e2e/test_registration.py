"""A patient registers, confirms the emailed code, signs out and signs in with a one-time code,
in Chromium against gunicorn that sends its email to a real SMTP server run by the test."""

import pytest
from playwright.sync_api import expect

from tests.mail import wait_for_code

pytestmark = pytest.mark.e2e


def test_patient_registers_verifies_signs_out_and_signs_in_with_a_code(mail_page, mail_server):
    page, inbox = mail_page, mail_server.handler
    page.goto("/login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Full name").fill("Rita Patel")
    page.get_by_label("Email", exact=True).fill("rita@example.com")
    page.get_by_label("Password (at least 8 characters)").fill("rita-secret-42")
    page.get_by_label("Repeat the password").fill("rita-secret-42")
    page.screenshot(path="/tmp/carebook-register.png", full_page=True)
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()
    expect(page.get_by_test_id("email-status")).to_contain_text("rita@example.com")
    page.get_by_label("Code").fill(wait_for_code(inbox, "rita@example.com", 1))
    page.screenshot(path="/tmp/carebook-verify.png", full_page=True)
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Rita Patel")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Sign in with a one-time code instead").click()
    page.get_by_role("textbox", name="Email").fill("rita@example.com")
    page.screenshot(path="/tmp/carebook-code-request.png", full_page=True)
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill(wait_for_code(inbox, "rita@example.com", 2))
    page.screenshot(path="/tmp/carebook-code-verify.png", full_page=True)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Rita Patel")
    page.goto("/account")
    expect(page.get_by_text("confirmed")).to_be_visible()
    page.screenshot(path="/tmp/carebook-account.png", full_page=True)
