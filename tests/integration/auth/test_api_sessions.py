"""The account page lists API sessions (refresh token families) beside browser sessions, and
revokes each one."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, RefreshToken, Role
from tests.factories import PASSWORD, make_user


def api_sign_in(client, email: str, **extra) -> dict:
    response = client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": PASSWORD, **extra},
        headers={"User-Agent": "curl/8.5.0"},
    )
    assert response.status_code == 200
    return response.get_json()


def refreshes(client, token: str) -> bool:
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    return response.status_code == 200


def test_account_page_lists_and_revokes_an_api_session(app, client):
    make_user(Role.PATIENT, email="ana@example.com")
    sync = api_sign_in(app.test_client(), "ana@example.com", client_name="Clinic sync")
    script = api_sign_in(app.test_client(), "ana@example.com")
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})

    page = client.get("/account").get_data(as_text=True)
    assert 'data-testid="sessions"' in page and 'data-testid="api-sessions"' in page
    assert "Clinic sync" in page and "curl/8.5.0" in page

    family = db.session.scalar(
        select(RefreshToken.family_id).where(RefreshToken.client == "Clinic sync")
    )
    response = client.post(f"/account/api-sessions/{family}/revoke")
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "That API session is signed out." in page
    assert "Clinic sync" not in page and "curl/8.5.0" in page
    assert not refreshes(client, sync["refresh_token"])
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {sync['access_token']}"}
        ).status_code
        == 401
    )
    assert refreshes(client, script["refresh_token"])
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "api.session_revoked"))


def test_someone_elses_api_session_cannot_be_revoked(app, client):
    make_user(Role.PATIENT, email="ana@example.com")
    make_user(Role.PATIENT, email="ben@example.com")
    bens = api_sign_in(app.test_client(), "ben@example.com", client_name="Ben's app")
    family = db.session.scalar(select(RefreshToken.family_id))
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})

    assert "Ben's app" not in client.get("/account").get_data(as_text=True)
    client.post(f"/account/api-sessions/{family}/revoke")
    assert "already ended" in client.get("/account").get_data(as_text=True)
    assert refreshes(client, bens["refresh_token"])


def test_signing_out_everywhere_else_ends_api_sessions(app, client):
    make_user(Role.PATIENT, email="ana@example.com")
    issued = api_sign_in(app.test_client(), "ana@example.com")
    other_browser = app.test_client()
    other_browser.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})

    client.post("/account/sessions/sign-out-others")
    page = client.get("/account").get_data(as_text=True)
    assert 'data-testid="no-api-sessions"' in page
    assert not refreshes(client, issued["refresh_token"])


def test_a_family_id_that_is_too_long_is_a_404(client):
    make_user(Role.PATIENT, email="ana@example.com")
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert client.post(f"/account/api-sessions/{'a' * 40}/revoke").status_code == 404
