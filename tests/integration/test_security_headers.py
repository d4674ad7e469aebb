"""Security headers on every response: CSP without inline scripts, no framing, no sniffing;
HSTS only in production."""

from __future__ import annotations

import pytest

from app.security import content_security_policy


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
        text = path.read_text()
        if (
            re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
            or re.search(r"\son[a-z]+\s*=\s*[\"']", text)
            or re.search(r"\sstyle\s*=|<style", text)
        ):
            offenders.append(str(path.relative_to(templates)))
    assert offenders == []
