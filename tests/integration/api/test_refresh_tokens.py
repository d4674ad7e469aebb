"""Refresh tokens: issued with the access token, rotated on each refresh, a reused one revokes
its family (with the access tokens issued from it), revocable, and expiring."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditLog, RefreshToken, Role
from tests.factories import PASSWORD, make_user
from tests.integration.api.helpers import assert_error

EMAIL = "ana@example.com"


def sign_in(client, **extra) -> dict:
    response = client.post(
        "/api/v1/auth/token", json={"email": EMAIL, "password": PASSWORD, **extra}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def me(client, access_token: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"}).status_code


@pytest.fixture
def ana(ctx):
    return make_user(Role.PATIENT, email=EMAIL)


def test_token_endpoint_returns_a_refresh_token_stored_only_as_its_hash(client, ana):
    body = sign_in(client, client_name="Clinic sync")
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert len(body["refresh_token"]) >= 40
    row = db.session.scalars(select(RefreshToken)).one()
    assert row.token_hash == hashlib.sha256(body["refresh_token"].encode()).hexdigest()
    assert body["refresh_token"] not in (row.token_hash, row.family_id)
    assert row.user_id == ana.id and row.client == "Clinic sync"
    assert row.expires_at - row.created_at == timedelta(days=30)
    assert me(client, body["access_token"]) == 200


def test_refresh_rotates_both_tokens(client, ana):
    first = sign_in(client)
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200
    second = response.get_json()
    assert set(second) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert second["refresh_token"] != first["refresh_token"]
    # (The access token is a signed (user, expiry, version, family): issued within the same
    # second as the first, it may be the same string; what matters is that it works.)
    assert me(client, second["access_token"]) == 200
    assert "no-store" in response.headers["Cache-Control"]
    old, new = db.session.scalars(select(RefreshToken).order_by(RefreshToken.id)).all()
    assert old.retired_at is not None and old.revoked_at is None
    assert new.parent_id == old.id and new.family_id == old.family_id
    # The child can be refreshed in turn.
    assert refresh(client, second["refresh_token"]).status_code == 200


def test_reused_refresh_token_revokes_its_family(client, ana):
    first = sign_in(client)
    second = refresh(client, first["refresh_token"]).get_json()
    other_session = sign_in(client)  # another sign-in: another family, untouched

    error = assert_error(refresh(client, first["refresh_token"]), 401, "invalid_refresh_token")
    assert "refresh token" in error["message"]

    # The token it had been rotated into is dead, and so are the family's access tokens.
    assert_error(refresh(client, second["refresh_token"]), 401, "invalid_refresh_token")
    assert me(client, second["access_token"]) == 401
    assert me(client, first["access_token"]) == 401
    assert me(client, other_session["access_token"]) == 200
    assert refresh(client, other_session["refresh_token"]).status_code == 200
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "api.refresh_token_reused"))


def test_expired_refresh_token_is_refused(client, ana):
    body = sign_in(client)
    db.session.execute(
        update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()
    assert_error(refresh(client, body["refresh_token"]), 401, "invalid_refresh_token")


def test_refresh_ttl_follows_the_setting(make_app, database_url, ctx, ana):
    app = make_app(database_url, API_REFRESH_TOKEN_TTL_DAYS=2)
    with app.app_context():
        sign_in(app.test_client())
        row = db.session.scalars(select(RefreshToken)).one()
        assert row.expires_at - row.created_at == timedelta(days=2)


def test_refresh_is_refused_once_the_account_is_deactivated_in_the_database(client, ana):
    body = sign_in(client)
    ana.is_active = False
    db.session.commit()
    assert_error(refresh(client, body["refresh_token"]), 401, "invalid_refresh_token")


def test_revoke_ends_the_family_and_is_idempotent(client, ana):
    body = sign_in(client)
    for _ in range(2):
        response = client.post("/api/v1/auth/revoke", json={"refresh_token": body["refresh_token"]})
        assert response.status_code == 200
        assert response.get_json() == {}
    assert_error(refresh(client, body["refresh_token"]), 401, "invalid_refresh_token")
    assert me(client, body["access_token"]) == 401


def test_revoking_a_rotated_token_ends_its_descendants(client, ana):
    first = sign_in(client)
    second = refresh(client, first["refresh_token"]).get_json()
    assert (
        client.post(
            "/api/v1/auth/revoke", json={"refresh_token": first["refresh_token"]}
        ).status_code
        == 200
    )
    assert_error(refresh(client, second["refresh_token"]), 401, "invalid_refresh_token")


def test_revoking_an_unknown_token_is_200_as_rfc_7009_says(client, ana):
    body = sign_in(client)
    response = client.post("/api/v1/auth/revoke", json={"refresh_token": "not-a-token"})
    assert response.status_code == 200
    assert refresh(client, body["refresh_token"]).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/auth/refresh", "/api/v1/auth/revoke"])
@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": ""}, {"refresh_token": 5}, {"refresh_token": ["x"]}, "a string"],
    ids=["missing", "empty", "number", "list", "not-an-object"],
)
def test_malformed_refresh_requests_get_422_json(client, path, body):
    error = assert_error(client.post(path, json=body), 422)
    assert error["message"] == "Some of the input is not valid."
    assert "refresh_token" in str(error["details"]) or body == "a string"


@pytest.mark.parametrize("token", ["garbage", "x" * 512, "é" * 10])
def test_unknown_refresh_tokens_get_401_json(client, ctx, token):
    assert_error(refresh(client, token), 401, "invalid_refresh_token")


def test_refresh_takes_json_only(client, ctx):
    response = client.post("/api/v1/auth/refresh", data={"refresh_token": "x"})
    assert_error(response, 415)


def test_openapi_documents_the_token_endpoints(client, ctx):
    spec = client.get("/api/v1/openapi.json").get_json()
    token = spec["components"]["schemas"]["Token"]
    assert {"access_token", "refresh_token", "expires_in", "token_type"} <= set(token["properties"])
    for path in ("/api/v1/auth/refresh", "/api/v1/auth/revoke"):
        assert "post" in spec["paths"][path]
        assert "security" not in spec["paths"][path]["post"]
