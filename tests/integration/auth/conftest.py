"""An app that sends its email to the test SMTP server (fixtures `smtp_server`, `inbox` and
`sms` in tests/conftest.py).
"""

from __future__ import annotations

import pytest


@pytest.fixture
def mail_app(make_app, database_url, smtp_server, sms, ctx):
    """The app with SMTP pointed at the test server; rate limits off (see limited_app)."""
    return make_app(
        database_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMS_PROVIDER="test",
    )


@pytest.fixture
def limited_app(make_app, database_url, smtp_server, sms, ctx):
    """As mail_app, with the rate limits on (fresh in-memory counters)."""
    return make_app(
        database_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMS_PROVIDER="test",
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
    )


@pytest.fixture
def web(mail_app):
    """A browser-like client of mail_app."""
    return mail_app.test_client()
