"""Headless Chromium (Debian's package) driven by Playwright.

Playwright's own browser download cannot work here: the executable is the system Chromium,
CHROMIUM_PATH overrides it.
"""

import pyotp
import pytest
from playwright.sync_api import expect

from tests import servers, services
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def playwright_driver():
    """The one Playwright of the session (a second sync_playwright() inside it would fail):
    every browser is launched from it."""
    services.chromium_path()  # skip, or fail under CI, without Chromium
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


def launch(playwright_driver, *extra_flags: str):
    """Debian's Chromium, headless, with CHROMIUM_FLAGS and `extra_flags`."""
    return playwright_driver.chromium.launch(
        executable_path=services.chromium_path(), args=[*CHROMIUM_FLAGS, *extra_flags]
    )


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = launch(playwright_driver)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, live_server, ctx):
    # After ctx (so closed before its tables are emptied): an open page keeps talking to the
    # server by itself (its socket connects after load), which must not race the TRUNCATE.
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def mail_server(smtp_server):
    """The test SMTP server (its handler is the inbox), emptied for this module."""
    smtp_server.handler.clear()
    return smtp_server


@pytest.fixture(scope="module")
def mail_live_server(app, database_url, mail_server):
    """A second live server (the shared one sends no email) with SMTP pointed at mail_server."""
    process, base_url = servers.start_app_server(
        database_url,
        TEST_SECRET_KEY,
        env={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail_server.port)},
        workers=1,
        threads=8,
        what="the mail live server",
    )
    yield base_url
    servers.stop(process)


@pytest.fixture
def mail_page(browser, mail_live_server, mail_server, ctx):
    mail_server.handler.clear()
    context = browser.new_context(base_url=mail_live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def one_process_server(app, database_url):
    """A live server of one process for a module whose browsers must hear each other's
    pushes: every socket meets in it, with no message queue (the shared live_server has two
    processes and none)."""
    process, base_url = servers.start_app_server(
        database_url, TEST_SECRET_KEY, workers=1, what="the one-process live server"
    )
    yield base_url
    servers.stop(process)


def sign_in(page, email: str, password: str = PASSWORD, *, totp_secret: str | None = None):
    """Through the sign-in form, as a person does (with the authenticator app's current code
    when the account has `totp_secret`); returns once the header shows the user."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if totp_secret:
        page.locator("input[name=code]").fill(pyotp.TOTP(totp_secret).now())
        page.locator("input[name=code]").press("Enter")
    expect(page.get_by_test_id("signed-in-as")).to_be_attached()


def signed_in_context(browser, base_url: str, email: str, *, timeout: float = 10_000):
    """A browser context of its own (another person) signed in on `base_url`:
    (context, page); the caller closes the context."""
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(timeout)
    page = context.new_page()
    sign_in(page, email)
    return context, page
