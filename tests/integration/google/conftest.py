"""A real OpenID Connect provider (node `oidc-provider`, tests/oidc/server.js) on a free port,
an app configured to use it as "Google", and a browser stand-in that logs in at the provider.

Without node (or npm to install tests/oidc) the tests skip; under CI=true they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from tests import services

OIDC_DIR = Path(__file__).resolve().parents[2] / "oidc"
CALLBACK = "http://localhost/login/google/callback"
CLIENT_ID = "carebook"
CLIENT_SECRET = "carebook-test-client-secret"
# A second client of the same provider: its ID tokens are not meant for Carebook.
OTHER_CLIENT_ID = "other-app"
OTHER_CLIENT_SECRET = "other-app-secret"


@dataclass(frozen=True)
class OidcProvider:
    issuer: str

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def tamper_next_id_token(self, **claims) -> None:
        """The next token response carries an ID token re-signed with `claims` changed."""
        response = requests.post(f"{self.issuer}/__test/tamper", json=claims, timeout=5)
        assert response.status_code == 204


def _node_and_modules() -> str:
    node = shutil.which("node")
    if node is None:
        services.unavailable("node (for the OpenID provider in tests/oidc)")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        npm = shutil.which("npm")
        if npm is None:
            services.unavailable("npm (to install tests/oidc)")
        result = subprocess.run(
            [npm, "ci", "--prefix", str(OIDC_DIR), "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            services.unavailable(f"npm ci in tests/oidc ({result.stderr.strip()[-200:]})")
    return node


@pytest.fixture(scope="session")
def oidc_provider():
    node = _node_and_modules()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    issuer = f"http://127.0.0.1:{port}"
    clients = [
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [CALLBACK]},
        {
            "client_id": OTHER_CLIENT_ID,
            "client_secret": OTHER_CLIENT_SECRET,
            "redirect_uris": ["http://localhost/other/callback"],
        },
    ]
    env = {**os.environ, "PORT": str(port), "ISSUER": issuer, "CLIENTS": json.dumps(clients)}
    process = subprocess.Popen(
        [node, "server.js"],
        cwd=OIDC_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok:
                break
        except requests.RequestException:
            pass  # still starting
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            stderr = process.stderr.read() if process.stderr else ""
            pytest.fail(f"the OpenID provider did not start: {stderr[-500:]}", pytrace=False)
        time.sleep(0.1)
    yield OidcProvider(issuer=issuer)
    process.terminate()
    process.wait(timeout=10)
    if process.stderr:
        process.stderr.close()


@pytest.fixture
def google_app(make_app, database_url, app, oidc_provider):
    """The app with Google sign-in pointed at the local provider (same test database)."""
    return make_app(
        database_url,
        GOOGLE_CLIENT_ID=CLIENT_ID,
        GOOGLE_CLIENT_SECRET=CLIENT_SECRET,
        GOOGLE_DISCOVERY_URL=oidc_provider.discovery_url,
    )


@pytest.fixture
def google_client(google_app, ctx):
    return google_app.test_client()


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def consent_at_provider(authorize_url: str, account: str = "alice") -> str:
    """Follow the provider's login and consent pages as a browser would, as `account`;
    return the URL it finally redirects to (the app's callback, with code and state)."""
    browser = requests.Session()
    response = browser.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(10):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith("http://localhost/"):
                browser.close()
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
            continue
        assert response.status_code == 200, response.text[:500]
        form = _Form()
        form.feed(response.text)
        data = dict(form.fields)
        if data.get("prompt") == "login":
            data.update(login=account, password="anything")
        response = browser.post(
            urljoin(response.url, form.action), data=data, allow_redirects=False, timeout=10
        )
    raise AssertionError("the provider did not redirect back")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
