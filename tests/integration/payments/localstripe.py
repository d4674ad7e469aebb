"""localstripe (a Stripe-compatible test server) and the app served against it, for the
payments tests and the browser test. Missing localstripe skips them, or fails them under CI."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests import servers, services
from tests.servers import free_port, stop  # noqa: F401  (the payments tests use them from here)

ROOT = Path(__file__).resolve().parents[3]
SECRET_KEY = "sk_test_carebook"
PUBLISHABLE_KEY = "pk_test_carebook"
WEBHOOK_SECRET = "whsec_test_carebook"


def _wait(url: str, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass  # still starting
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            services.unavailable(what)
        time.sleep(0.2)


def start_localstripe() -> tuple[subprocess.Popen, str]:
    """localstripe on a free port, empty (it shares /tmp/localstripe.pickle: never load it)."""
    try:
        import localstripe  # noqa: F401
    except ImportError:
        services.unavailable("localstripe (pip install localstripe)")
    port = free_port()
    log = open(Path(tempfile.gettempdir()) / f"localstripe-{port}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    _wait(f"{base}/js.stripe.com/v3/", process, f"localstripe on port {port}")
    return process, base


def settings(base: str) -> dict:
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": base,
        "STRIPE_JS_URL": f"{base}/js.stripe.com/v3/",
    }


def start_server(database_url: str, base: str, secret_key: str) -> tuple[subprocess.Popen, str]:
    """The app under gunicorn, paying through localstripe."""
    return servers.start_app_server(
        database_url, secret_key, env=settings(base), threads=8, what="the payments live server"
    )


def deliver_webhooks_to(base: str, url: str | None) -> None:
    """Point localstripe's webhook at `url` (None: deliver nothing)."""
    data = {"url": url or "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET}
    if url is None:
        data["events[0]"] = "none"
    requests.post(f"{base}/_config/webhooks/carebook", data=data, timeout=5).raise_for_status()


def card_token(base: str, number: str) -> str:
    """What Stripe.js makes of a card typed into the page."""
    response = requests.post(
        f"{base}/v1/tokens",
        data={
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
            "key": PUBLISHABLE_KEY,
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["id"]


def authenticate_3ds(base: str, intent_id: str, client_secret: str, success: bool) -> str:
    """The payer's answer to the 3-D Secure check (what Stripe.js does in the page)."""
    response = requests.post(
        f"{base}/v1/payment_intents/{intent_id}/_authenticate?success={str(success).lower()}",
        json={"key": PUBLISHABLE_KEY, "client_secret": client_secret},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["status"]


def signed_event(
    event_type: str,
    obj: dict,
    *,
    event_id: str | None = None,
    timestamp: int | None = None,
    secret: str = WEBHOOK_SECRET,
) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature header, as Stripe signs them."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    body = json.dumps(
        {
            "id": event_id or f"evt_test_{time.monotonic_ns()}",
            "object": "event",
            "type": event_type,
            "created": timestamp,
            "data": {"object": obj},
        }
    ).encode()
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return body, f"t={timestamp},v1={mac.hexdigest()}"
