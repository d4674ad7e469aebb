"""Report tests: a browser-like client and a signed-in admin (with the authenticator app)."""

from __future__ import annotations

import pytest

from tests.integration.admin.conftest import make_admin, sign_in


@pytest.fixture
def web(app, ctx):
    return app.test_client()


@pytest.fixture
def admin(web):
    user = make_admin(name="Ada Admin", email="ada@example.com")
    sign_in(web, user)
    return user
