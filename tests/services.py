"""Reaching the real services the suite runs against (PostgreSQL, Redis, Chromium).

Outside CI a missing service skips the tests that need it; with CI=true it fails them.
"""

from __future__ import annotations

import os
import shutil
import uuid

import psycopg
import pytest
import redis

CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def unavailable(what: str) -> None:
    """Fail under CI, skip elsewhere."""
    if CI:
        pytest.fail(f"{what} is required under CI=true but is not available", pytrace=False)
    pytest.skip(f"{what} not available")


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def create_database() -> str:
    """Create a fresh, empty PostgreSQL database for this test session; return its URL."""
    name = f"carebook_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(TEST_DATABASE_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {TEST_DATABASE_URL} ({exc.__class__.__name__})")
    return _with_database(TEST_DATABASE_URL, name)


def drop_database(url: str) -> None:
    name = url.rpartition("/")[2]
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {TEST_REDIS_URL} ({exc.__class__.__name__})")
    return client


def chromium_path() -> str:
    if not os.path.exists(CHROMIUM_PATH):
        unavailable(f"Chromium at {CHROMIUM_PATH}")
    return CHROMIUM_PATH
