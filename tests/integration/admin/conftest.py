"""Admin pages: an app that emails through the test SMTP server, and signing people in
(admins with their authenticator app, since admins must use 2FA)."""

from __future__ import annotations

import pyotp
import pytest

from app.models import Role, User
from tests.factories import PASSWORD, make_user

TOTP_SECRET = "RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO"


def sign_in(client, user: User) -> None:
    """Sign in through the pages (password, then the authenticator code when enrolled)."""
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    if response.status_code == 302 and response.headers["Location"].startswith("/login/2fa"):
        response = client.post("/login/2fa", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def make_admin(**fields) -> User:
    return make_user(Role.ADMIN, totp_secret=TOTP_SECRET, **fields)


def make_helper(*permissions: str, **fields) -> User:
    from app.extensions import db
    from app.models import UserPermission

    user = make_user(Role.HELPER, **fields)
    user.permissions.extend(UserPermission(permission=p) for p in permissions)
    db.session.commit()
    return user


@pytest.fixture
def admin_app(make_app, database_url, app, smtp_server, ctx):
    return make_app(database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)


@pytest.fixture
def web(admin_app):
    return admin_app.test_client()


@pytest.fixture
def admin(web):
    user = make_admin(name="Ada Admin", email="ada@example.com")
    sign_in(web, user)
    return user
