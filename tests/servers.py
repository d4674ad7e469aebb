"""Serving the app for tests that go over real HTTP: gunicorn in its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    """Poll `url` until it answers 200; fail the test if the process dies or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass  # still starting
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            pytest.fail(f"{what} did not start", pytrace=False)
        time.sleep(0.2)


def start_app_server(
    database_url: str,
    secret_key: str,
    *,
    env: dict | None = None,
    workers: int = 2,
    threads: int = 16,
    worker_class: str = "gevent",
    what: str = "the live server",
) -> tuple[subprocess.Popen, str]:
    """gunicorn serving wsgi:app on `database_url` (jobs inline unless `env` names a
    REDIS_URL); returns (process, base URL).

    The worker class is production's (gevent: see the README's "Real time"); `threads` counts
    only with worker_class="gthread". Socket.IO clients of a server with several workers
    connect over WebSocket only (no sticky sessions here for polling)."""
    port = free_port()
    environment = {
        **{name: value for name, value in os.environ.items() if name != "REDIS_URL"},
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "LOG_LEVEL": "WARNING",
        # Live servers test flows and races (one patient books dozens of slots at once): the
        # rate limits and booking caps are tested through the test client instead.
        "RATELIMIT_ENABLED": "false",
        "MAX_ACTIVE_BOOKINGS": "10000",
        "MAX_ACTIVE_BOOKINGS_PER_DOCTOR": "10000",
        "EMBEDDED_SCHEDULE": "false",  # tests run the periodic jobs when they mean to
        "CATALOGUE_CACHE_SECONDS": "0",  # tests empty tables behind its back (TRUNCATE)
        "PUBLIC_CACHE_SECONDS": "0",  # pages read what the test just wrote
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", worker_class,
         *(["--threads", str(threads)] if worker_class == "gthread" else []),
         "--log-level", "warning", "--no-control-socket", "wsgi:app"],
        cwd=ROOT,
        env=environment,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base_url}/healthz", process, what)
    return process, base_url


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
