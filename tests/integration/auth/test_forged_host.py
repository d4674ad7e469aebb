"""Emailed links come from PUBLIC_BASE_URL, never from the request's Host header, and a
production app answers only for its own hosts (security issue, item 2)."""

from __future__ import annotations

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from app.models import Role
from tests.factories import make_user
from tests.integration.admin.conftest import make_admin, sign_in

PUBLIC = "https://carebook.example.com"


@pytest.fixture
def public_app(make_app, database_url, smtp_server, sms, ctx):
    return make_app(
        database_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMS_PROVIDER="test",
        PUBLIC_BASE_URL=PUBLIC,
    )


@pytest.mark.parametrize(
    "headers",
    [{"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}],
    ids=["host", "x-forwarded-host"],
)
def test_a_forged_host_does_not_reach_the_reset_link(public_app, inbox, headers):
    public_app.wsgi_app = ProxyFix(public_app.wsgi_app, x_for=1, x_proto=1)  # as behind a proxy
    make_user(Role.PATIENT, email="ana@example.com")
    response = public_app.test_client().post(
        "/password/forgot", data={"email": "ana@example.com"}, headers=headers
    )
    assert response.status_code == 302
    link = inbox.last_link("ana@example.com")
    assert link.startswith(f"{PUBLIC}/password/reset?token=")
    assert "evil" not in inbox.to("ana@example.com")[-1].body


def test_the_set_password_link_an_admin_sends_uses_the_public_url(public_app, inbox):
    public_app.wsgi_app = ProxyFix(public_app.wsgi_app, x_for=1, x_proto=1)
    admin_browser = public_app.test_client()
    sign_in(admin_browser, make_admin())
    response = admin_browser.post(
        "/admin/users/new",
        data={"role": "helper", "name": "Grace", "email": "grace@example.com"},
        headers={"X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/users/")
    assert inbox.last_link("grace@example.com").startswith(f"{PUBLIC}/password/set?token=")


def test_unknown_hosts_are_refused_when_hosts_are_configured(make_app, database_url, ctx):
    app = make_app(database_url, PUBLIC_BASE_URL=PUBLIC, TRUSTED_HOSTS=["carebook.example.com"])
    client = app.test_client()
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/login", headers={"Host": "carebook.example.com"}).status_code == 200
