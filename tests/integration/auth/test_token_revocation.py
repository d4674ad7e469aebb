"""API tokens end with the events that end a sign-in (security issue, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
import pytest

from app.models import Role
from app.services import staff
from app.services.accounts import passwords, sessions, two_factor
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "another-long-passphrase"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def works(client, token: str) -> bool:
    return client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def _reset(user, now):
    link = passwords._make_token(user, passwords._RESET_SALT, now)  # the emailed link
    passwords.reset_password(link, NEW_PASSWORD, purpose="reset", now=now)


def _change(user, now):
    passwords.change_password(
        user.id, NEW_PASSWORD, reauthenticated_at=now, session_token=None, now=now
    )


def _sign_out_everywhere(user, now):
    sessions.sign_out_other_sessions(user.id, keep_token=None, now=now)


def _enable_2fa(user, now):
    secret = two_factor.new_secret()
    two_factor.enable(
        user.id, secret=secret, code=pyotp.TOTP(secret).now(), reauthenticated_at=now, now=now
    )


def _deactivate_and_reactivate(user, now):
    admin = make_user(Role.ADMIN)
    staff.set_active(user.id, False, actor_id=admin.id, now=now, ip=None)
    staff.set_active(user.id, True, actor_id=admin.id, now=now, ip=None)


def _role_change(user, now):
    admin = make_user(Role.ADMIN)
    staff.change_role(user.id, Role.HELPER, actor_id=admin.id, now=now, ip=None)


ENDINGS = pytest.mark.parametrize(
    "ending",
    [
        _reset,
        _change,
        _sign_out_everywhere,
        _enable_2fa,
        _deactivate_and_reactivate,
        _role_change,
    ],
    ids=lambda f: f.__name__.strip("_"),
)


@ENDINGS
def test_old_tokens_stop_working_after(client, auth, ending):
    user = make_user(Role.PATIENT, email="ana@example.com")
    token = auth.token("ana@example.com")
    assert works(client, token)
    ending(user, datetime.now(UTC))
    assert not works(client, token)
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_token_issued_after_the_event_works(client, auth):
    user = make_user(Role.PATIENT, email="ana@example.com")
    old = auth.token("ana@example.com")
    _sign_out_everywhere(user, datetime.now(UTC))
    new = auth.token("ana@example.com", PASSWORD)
    assert works(client, new) and not works(client, old)


def test_deactivation_alone_keeps_the_token_dead_after_reactivation(client, auth):
    user = make_user(Role.PATIENT, email="ana@example.com")
    admin = make_user(Role.ADMIN)
    token = auth.token("ana@example.com")
    staff.set_active(user.id, False, actor_id=admin.id, now=datetime.now(UTC), ip=None)
    assert not works(client, token)
    staff.set_active(user.id, True, actor_id=admin.id, now=datetime.now(UTC), ip=None)
    assert not works(client, token)


@ENDINGS
def test_refresh_tokens_stop_working_after(client, ending):
    user = make_user(Role.PATIENT, email="ana@example.com")
    issued = client.post(
        "/api/v1/auth/token", json={"email": "ana@example.com", "password": PASSWORD}
    ).get_json()
    ending(user, datetime.now(UTC))
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_refresh_token"
