"""Security headers on every response: CSP without inline scripts, no framing, no sniffing;
HSTS only in production; no-store for anything of a signed-in user, a token or a session."""

from __future__ import annotations

import pytest

from app.models import Role
from app.security import content_security_policy
from tests.factories import make_user


def _directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in policy.split("; ")}


@pytest.mark.parametrize("path", ["/", "/login", "/doctors", "/healthz", "/api/v1/specialties"])
def test_pages_and_api_carry_the_security_headers(client, path):
    response = client.get(path)

    assert response.status_code == 200
    csp = _directives(response.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'", "https://js.stripe.com"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert "https://js.stripe.com" in csp["frame-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_error_pages_carry_them_too(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_hsts_only_in_production(make_app, database_url, app, ctx):
    production = make_app(database_url, CAREBOOK_ENV="production")
    response = production.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_stripe_origins_follow_the_configuration():
    policy = _directives(
        content_security_policy(
            {
                "STRIPE_JS_URL": "http://127.0.0.1:8420/js.stripe.com/v3/",
                "STRIPE_API_BASE": "http://127.0.0.1:8420",
            }
        )
    )
    assert policy["script-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert "http://127.0.0.1:8420" in policy["frame-src"]
    assert policy["connect-src"] == ["'self'", "http://127.0.0.1:8420"]


def test_no_template_has_an_inline_script_style_or_event_handler():
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for path in templates.rglob("*.html"):
        if path.relative_to(templates).parts[0] == "email":
            continue  # emails are not served under the CSP, and mail clients need inline CSS
        text = path.read_text()
        if (
            re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
            or re.search(r"\son[a-z]+\s*=\s*[\"']", text)
            or re.search(r"\sstyle\s*=|<style", text)
        ):
            offenders.append(str(path.relative_to(templates)))
    assert offenders == []


def test_signed_in_pages_are_not_stored(client, auth):
    make_user(Role.PATIENT, email="ana@example.com")
    signing_in = auth.login("ana@example.com")
    assert signing_in.status_code == 302
    assert signing_in.headers["Cache-Control"] == "no-store"  # it sets the session
    for path in ("/", "/account", "/appointments", "/no-such-page"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    assert auth.logout().headers["Cache-Control"] == "no-store"


def test_api_responses_with_a_bearer_token_are_not_stored(client, auth):
    make_user(Role.PATIENT, email="ana@example.com")
    issued = client.post(
        "/api/v1/auth/token", json={"email": "ana@example.com", "password": "x" * 12}
    )
    assert issued.headers["Cache-Control"] == "no-store"
    token = auth.token("ana@example.com")
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/me", "/api/v1/appointments", "/api/v1/specialties"):
        assert client.get(path, headers=bearer).headers.get("Cache-Control") == "no-store", path
    wrong = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["Cache-Control"] == "no-store"


def test_public_responses_and_static_files_keep_their_caching(client, auth):
    assert "no-store" not in client.get("/api/v1/specialties").headers.get("Cache-Control", "")
    make_user(Role.PATIENT, email="ana@example.com")
    auth.login("ana@example.com")
    asset = client.get("/static/css/carebook.css")
    assert asset.status_code == 200
    assert "no-store" not in asset.headers.get("Cache-Control", "")
    assert asset.headers.get("ETag") or asset.headers.get("Last-Modified")
    asset.close()
