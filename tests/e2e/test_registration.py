"""A patient registers, confirms the emailed code, signs out and signs in with a one-time code,
in Chromium against gunicorn that sends its email to a real SMTP server run by the test."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.conftest import TEST_SECRET_KEY
from tests.integration.auth.conftest import Inbox, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def mail_server():
    controller = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture(scope="module")
def mail_live_server(app, database_url, mail_server):
    """A second live server (the shared one sends no email) with SMTP pointed at mail_server."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail_server.port),
    }
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "8", "--log-level", "warning", "--no-control-socket", "wsgi:app"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass  # still booting
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the mail live server did not start", pytrace=False)
        time.sleep(0.2)
    yield base_url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def mail_page(browser, mail_live_server, mail_server, ctx):
    mail_server.handler.clear()
    context = browser.new_context(base_url=mail_live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def wait_for_code(inbox: Inbox, address: str, count: int) -> str:
    deadline = time.monotonic() + 10
    while len(inbox.to(address)) < count:
        assert time.monotonic() < deadline, f"email {count} to {address} never came"
        time.sleep(0.1)
    return inbox.last_code(address)


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

    expect(page.get_by_role("heading", name="Confirm your details")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Rita Patel")
    page.get_by_label("Code").fill(wait_for_code(inbox, "rita@example.com", 1))
    page.screenshot(path="/tmp/carebook-verify.png", full_page=True)
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.get_by_test_id("email-status")).to_contain_text("is confirmed")

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
