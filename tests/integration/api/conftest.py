"""API test fixtures: bearer headers for any user."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.services.accounts.tokens import issue_token
from tests.conftest import TEST_SECRET_KEY


@pytest.fixture
def bearer():
    """bearer(user) -> the Authorization header of a fresh token for that user."""

    def headers(user) -> dict:
        token = issue_token(
            user, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=datetime.now(UTC)
        )
        return {"Authorization": f"Bearer {token}"}

    return headers
