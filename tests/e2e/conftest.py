"""Headless Chromium (Debian's package) driven by Playwright.

Playwright's own browser download cannot work here: the executable is the system Chromium,
CHROMIUM_PATH overrides it.
"""

import pytest

from tests import servers, services
from tests.conftest import TEST_SECRET_KEY

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
def browser():
    executable = services.chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
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
