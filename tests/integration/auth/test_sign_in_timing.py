"""A failed sign-in does the same work whether or not the address has an account (security
issue, item 4): one argon2 verification each time, on the web and on the token endpoint.
The times are measured and printed (-s shows them); what is asserted is the code path."""

from __future__ import annotations

import statistics
import time

import pytest
from argon2 import PasswordHasher

from app.models import Role
from app.services.accounts import accounts
from tests.factories import make_user


@pytest.fixture
def hash_checks(monkeypatch):
    calls = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash, password):
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "_hasher", CountingHasher())
    return calls


def web(client, email):
    return client.post("/login", data={"email": email, "password": "wrong-password"})


def api(client, email):
    return client.post("/api/v1/auth/token", json={"email": email, "password": "wrong-password"})


@pytest.mark.parametrize("attempt", [web, api], ids=["web", "api"])
def test_known_unknown_and_passwordless_addresses_cost_one_hash_check(client, hash_checks, attempt):
    make_user(Role.PATIENT, email="known@example.com")
    make_user(Role.PATIENT, email="google-only@example.com", password_hash=None)
    for email in ("known@example.com", "nobody@example.com", "google-only@example.com"):
        hash_checks.clear()
        response = attempt(client, email)
        assert response.status_code == 401
        assert len(hash_checks) == 1, email
        assert hash_checks[0].startswith("$argon2id$")


def test_median_times_of_known_and_unknown_addresses(client, hash_checks):
    make_user(Role.PATIENT, email="known@example.com")

    def median(email):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            hash_checks.clear()
            assert api(client, email).status_code == 401
            assert len(hash_checks) == 1
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    known, unknown = median("known@example.com"), median("nobody@example.com")
    # A figure for the reader (pytest -s), not an assertion: this machine is shared and noisy.
    print(f"median failed sign-in: known {known * 1000:.0f} ms, unknown {unknown * 1000:.0f} ms")
