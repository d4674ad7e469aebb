"""Server-side sessions: sign-out, timeouts, revocation, cookie flags."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.config import load_config
from app.extensions import db
from app.models import AuditLog, Role, UserSession
from app.services import staff
from tests.factories import PASSWORD, make_user


def sign_in(client, email):
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def signed_in(client) -> bool:
    return "Sign out" in client.get("/").get_data(as_text=True)


def session_cookie(client):
    return client.get_cookie("carebook")


def test_sign_in_opens_a_server_side_session_and_sign_out_revokes_it(client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    stolen = session_cookie(client).value
    row = db.session.scalars(select(UserSession)).one()
    assert row.revoked_at is None
    client.post("/logout")
    assert db.session.scalars(select(UserSession)).one().revoked_at is not None
    # Replaying the cookie from before sign-out no longer signs anyone in.
    client.set_cookie("carebook", stolen)
    assert not signed_in(client)


def test_a_session_ends_after_30_idle_minutes(client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    assert signed_in(client)
    db.session.execute(
        update(UserSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
    )
    db.session.commit()
    assert not signed_in(client)


def test_activity_keeps_a_session_alive_but_not_past_12_hours(client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    db.session.execute(
        update(UserSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=29))
    )
    db.session.commit()
    assert signed_in(client)
    db.session.execute(update(UserSession).values(expires_at=datetime.now(UTC)))
    db.session.commit()
    assert not signed_in(client)


def test_deactivation_revokes_every_session(app, client):
    user = make_user(Role.PATIENT, email="ana@example.com")
    admin = make_user(Role.ADMIN)
    other = app.test_client()
    sign_in(client, "ana@example.com")
    sign_in(other, "ana@example.com")
    staff.set_active(user.id, False, actor_id=admin.id, now=datetime.now(UTC), ip=None)
    assert not signed_in(client) and not signed_in(other)
    rows = db.session.scalars(select(UserSession)).all()
    assert len(rows) == 2 and all(r.revoked_at is not None for r in rows)
    assert "account.deactivated" in set(db.session.scalars(select(AuditLog.action)))


def test_a_new_session_id_at_every_sign_in(client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    first = session_cookie(client).value
    client.post("/logout")
    sign_in(client, "ana@example.com")
    assert session_cookie(client).value != first
    assert len(db.session.scalars(select(UserSession)).all()) == 2


def test_session_cookie_is_httponly_and_samesite_lax(client):
    make_user(Role.PATIENT, email="ana@example.com")
    header = sign_in(client, "ana@example.com").headers["Set-Cookie"]
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_production_uses_a_secure_host_only_cookie(monkeypatch, tmp_path):
    monkeypatch.setenv("CAREBOOK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://carebook.example.com")
    monkeypatch.setenv("SMTP_HOST", "smtp.example.com")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    config = load_config(tmp_path)
    assert config["SESSION_COOKIE_NAME"] == "__Host-carebook"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_IDLE_MINUTES"] == 30
    assert config["SESSION_ABSOLUTE_HOURS"] == 12


def test_the_account_page_lists_sessions_and_signs_out_the_others(mail_app):
    make_user(Role.PATIENT, email="ana@example.com")
    here, elsewhere = mail_app.test_client(), mail_app.test_client()
    for client in (here, elsewhere):
        client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    page = here.get("/account").get_data(as_text=True)
    assert page.count("· this browser") == 1
    assert "Sign out everywhere else" in page

    response = here.post("/account/sessions/sign-out-others")
    assert response.status_code == 302
    assert "Signed out of 1 other session." in here.get("/account").get_data(as_text=True)
    assert "Sign out" in here.get("/").get_data(as_text=True)
    assert "Sign out" not in elsewhere.get("/").get_data(as_text=True)
