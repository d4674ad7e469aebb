"""Bearer tokens for the JSON API and its error shape."""

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Role
from app.services.accounts.tokens import issue_token
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_user


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_good_credentials_get_a_bearer_token_that_works(client, auth):
    make_user(Role.PATIENT, email="ana@example.com", name="Ana")
    response = client.post(
        "/api/v1/auth/token", json={"email": "ana@example.com", "password": "correct-horse-battery"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json() == {
        "id": me.get_json()["id"],
        "email": "ana@example.com",
        "name": "Ana",
        "phone": None,
        "role": "patient",
    }


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "ana@example.com", "password": "wrong-password"},
        {"email": "nobody@example.com", "password": "correct-horse-battery"},
    ],
)
def test_bad_credentials_get_401_json(client, credentials):
    make_user(Role.PATIENT, email="ana@example.com")
    response = client.post("/api/v1/auth/token", json=credentials)
    assert response.status_code == 401
    assert response.get_json() == {
        "error": {"code": "invalid_credentials", "message": "Email or password is incorrect."}
    }


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "a@example.com"}, {"email": 5, "password": ["x"]}, "not an object"],
)
def test_malformed_token_requests_get_422_with_field_errors(client, body):
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["message"] == "Some of the input is not valid."
    assert "details" in error


def test_expired_token_is_refused(client):
    user = make_user(Role.PATIENT)
    token = issue_token(
        user,
        secret_key=TEST_SECRET_KEY,
        ttl_seconds=60,
        now=datetime.now(UTC) - timedelta(minutes=2),
    )
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic abc", "Bearer", ""])
def test_missing_or_forged_tokens_are_refused(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"]


def test_token_signed_with_another_key_is_refused(client):
    user = make_user(Role.PATIENT)
    token = issue_token(user, secret_key="other", ttl_seconds=60, now=datetime.now(UTC))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_token_of_a_deactivated_account_stops_working(client, auth):
    user = make_user(Role.PATIENT, email="ana@example.com")
    token = auth.token("ana@example.com")
    user.is_active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_browser_session_does_not_authenticate_the_api(client, auth):
    make_user(Role.PATIENT, email="ana@example.com")
    auth.login("ana@example.com")
    assert client.get("/api/v1/me").status_code == 401


def test_api_errors_are_json_never_html(client):
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong_method = client.get("/api/v1/auth/token")
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["Allow"]


def test_openapi_document_describes_the_token_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in spec["paths"]


def test_two_step_accounts_need_their_code_for_a_token(client):
    import pyotp

    secret = pyotp.random_base32()
    make_user(Role.PATIENT, email="ana@example.com", totp_secret=secret)
    credentials = {"email": "ana@example.com", "password": "correct-horse-battery"}

    missing = client.post("/api/v1/auth/token", json=credentials)
    assert missing.status_code == 401
    assert missing.get_json()["error"]["code"] == "two_factor_required"
    wrong = client.post("/api/v1/auth/token", json={**credentials, "otp": "000000"})
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["code"] == "invalid_second_factor"
    good = client.post("/api/v1/auth/token", json={**credentials, "otp": pyotp.TOTP(secret).now()})
    assert good.status_code == 200
    assert good.get_json()["access_token"]


def test_admins_without_two_step_get_no_token_when_it_is_required(make_app, database_url, ctx):
    app = make_app(database_url, ADMIN_2FA_REQUIRED=True)
    make_user(Role.ADMIN, email="root@example.com")
    response = app.test_client().post(
        "/api/v1/auth/token",
        json={"email": "root@example.com", "password": "correct-horse-battery"},
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "two_factor_enrolment_required"
