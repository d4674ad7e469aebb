"""Authenticator-app 2FA: enrolment with a QR code, sign-in, replay, recovery codes, admins."""

import json
import re
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditLog, RecoveryCode, Role, User, UserSession
from tests.factories import PASSWORD, make_user

SECRET = "RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO"


def sign_in(client, email):
    return client.post("/login", data={"email": email, "password": PASSWORD})


def signed_in(client) -> bool:
    return "Sign out" in client.get("/").get_data(as_text=True)


def enrol(client, secrets: list | None = None) -> list[str]:
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    if secrets is not None:
        secrets.append(secret)
    response = client.post("/account/2fa/enable", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)
    return re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", response.get_data(as_text=True))


def test_enrolment_shows_an_inline_svg_qr_code_and_gives_recovery_codes(client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "<svg" in page and not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline JS
    codes = enrol(client)
    assert len(codes) == 10
    user = db.session.scalars(select(User)).one()
    assert user.totp_secret is not None
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert "auth.2fa_enabled" in set(db.session.scalars(select(AuditLog.action)))
    assert "On · 10 recovery codes left" in client.get("/account").get_data(as_text=True)


def test_the_secret_being_enrolled_is_sealed_in_the_session_cookie(app, client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)

    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    contents = app.session_interface.get_signing_serializer(app).loads(cookie)

    assert secret not in json.dumps(contents)
    assert contents["totp_pending"].startswith("v1:")
    # The same secret is shown again until enrolment ends, and enrolling with it works.
    again = client.get("/account/2fa").get_data(as_text=True)
    assert f'data-testid="totp-secret">{secret}<' in again
    response = client.post("/account/2fa/enable", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200


def test_the_authenticator_secret_is_stored_sealed_and_still_signs_in(client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    secrets: list[str] = []
    enrol(client, secrets)
    stored = db.session.scalars(select(User.totp_secret)).one()
    assert stored.startswith("v1:") and secrets[0] not in stored

    client.post("/logout")
    assert sign_in(client, "ana@example.com").headers["Location"] == "/login/2fa"
    # The code of the current time step was used to enrol: the next one signs in.
    next_code = pyotp.TOTP(secrets[0]).at(datetime.now(UTC) + timedelta(seconds=30))
    assert client.post("/login/2fa", data={"code": next_code}).status_code == 302
    assert signed_in(client)


def test_a_wrong_code_does_not_enable_2fa(client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    client.get("/account/2fa")
    response = client.post("/account/2fa/enable", data={"code": "000000"})
    assert response.status_code == 401
    assert db.session.scalars(select(User)).one().totp_secret is None


def test_sign_in_with_2fa_needs_the_app_code_and_a_code_is_not_accepted_twice(app, client):
    make_user(Role.PATIENT, email="ana@example.com", totp_secret=SECRET)
    response = sign_in(client, "ana@example.com")
    assert response.headers["Location"] == "/login/2fa"
    assert not signed_in(client)
    code = pyotp.TOTP(SECRET).now()
    assert client.post("/login/2fa", data={"code": code}).status_code == 302
    assert signed_in(client)
    # Someone who saw that code cannot use it again.
    other = app.test_client()
    sign_in(other, "ana@example.com")
    response = other.post("/login/2fa", data={"code": code})
    assert response.status_code == 401
    assert not signed_in(other)
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "auth.2fa_failed")).one()
    assert entry.data == {"replayed": True}


def test_a_recovery_code_works_once(app, client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    codes = enrol(client)
    client.post("/logout")
    sign_in(client, "ana@example.com")
    assert client.post("/login/2fa", data={"code": codes[0]}).status_code == 302
    client.post("/logout")
    sign_in(client, "ana@example.com")
    assert client.post("/login/2fa", data={"code": codes[0]}).status_code == 401


def test_the_second_step_lapses_after_five_minutes(client):
    make_user(Role.PATIENT, email="ana@example.com", totp_secret=SECRET)
    sign_in(client, "ana@example.com")
    with client.session_transaction() as session:
        pending = dict(session["second_factor"])
        pending["at"] -= 6 * 60
        session["second_factor"] = pending
    response = client.post("/login/2fa", data={"code": pyotp.TOTP(SECRET).now()})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_an_admin_without_2fa_is_sent_to_enrol_first(make_app, database_url, ctx):
    client = make_app(database_url, ADMIN_2FA_REQUIRED=True).test_client()
    make_user(Role.ADMIN, email="boss@example.com")
    sign_in(client, "boss@example.com")
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/2fa"
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "Administrators must use an authenticator app." in page
    enrol(client)
    assert client.get("/account").status_code == 200


def test_admins_cannot_turn_2fa_off(client):
    make_user(Role.ADMIN, email="boss@example.com")
    sign_in(client, "boss@example.com")
    enrol(client)
    response = client.post("/account/2fa/disable")
    assert response.status_code == 403
    assert db.session.scalars(select(User)).one().totp_secret is not None


def test_turning_2fa_off_asks_to_confirm_it_is_you_after_a_while(client):
    make_user(Role.PATIENT, email="ana@example.com")
    sign_in(client, "ana@example.com")
    enrol(client)
    with client.session_transaction() as session:
        session["reauth_at"] = (datetime.now(UTC) - timedelta(minutes=11)).timestamp()
    response = client.post("/account/2fa/disable")
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/account/confirm"
    )
    assert db.session.scalars(select(User)).one().totp_secret is not None
    assert client.post("/account/confirm", data={"pw-password": "wrong"}).status_code == 401
    assert client.post("/account/confirm", data={"pw-password": PASSWORD}).status_code == 302
    assert client.post("/account/2fa/disable").status_code == 302
    assert db.session.scalars(select(User)).one().totp_secret is None
    assert "auth.2fa_disabled" in set(db.session.scalars(select(AuditLog.action)))


def test_session_rows_exist_only_after_the_second_factor(client):
    make_user(Role.PATIENT, email="ana@example.com", totp_secret=SECRET)
    sign_in(client, "ana@example.com")
    assert db.session.scalars(select(UserSession)).all() == []
    db.session.execute(update(User).values(totp_last_counter=None))
    db.session.commit()
    client.post("/login/2fa", data={"code": pyotp.TOTP(SECRET).now()})
    assert len(db.session.scalars(select(UserSession)).all()) == 1


def _helper(email: str, *permissions: str) -> User:
    from app.models import UserPermission

    user = make_user(Role.HELPER, email=email)
    user.permissions.extend(UserPermission(permission=p) for p in permissions)
    db.session.commit()
    return user


def test_a_helper_with_a_permission_must_enrol_before_anything_else(make_app, database_url, ctx):
    client = make_app(database_url, ADMIN_2FA_REQUIRED=True).test_client()
    _helper("clerk@example.com", "bookings.view")
    sign_in(client, "clerk@example.com")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/2fa"
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "Helpers with permissions must use an authenticator app." in page
    enrol(client)
    assert client.get("/account").status_code == 200
    # Enrolled, they cannot turn it off again.
    assert client.post("/account/2fa/disable").status_code == 403
    assert db.session.scalars(select(User)).one().totp_secret is not None


def test_a_helper_with_a_permission_gets_no_api_token_without_2fa(make_app, database_url, ctx):
    client = make_app(database_url, ADMIN_2FA_REQUIRED=True).test_client()
    _helper("clerk@example.com", "payments.view")
    response = client.post(
        "/api/v1/auth/token", json={"email": "clerk@example.com", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "two_factor_enrolment_required"


def test_a_token_from_before_a_permission_was_granted_stops_working(make_app, database_url, ctx):
    from app.models import UserPermission

    client = make_app(database_url, ADMIN_2FA_REQUIRED=True).test_client()
    helper = _helper("clerk@example.com")
    response = client.post(
        "/api/v1/auth/token", json={"email": "clerk@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200  # no permission: no second factor owed
    bearer = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    helper.permissions.append(UserPermission(permission="bookings.view"))
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_helper_without_permissions_needs_no_2fa(make_app, database_url, ctx):
    client = make_app(database_url, ADMIN_2FA_REQUIRED=True).test_client()
    _helper("plain@example.com")
    sign_in(client, "plain@example.com")
    assert client.get("/account").status_code == 200
