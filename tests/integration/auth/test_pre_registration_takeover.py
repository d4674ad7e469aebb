"""Someone registers another person's address with their own password and never confirms it
(security issue, item 1). Until the inbox answers, that password opens nothing; once the owner
proves the inbox, whatever the stranger set up is gone. Two browsers, a real SMTP inbox."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.accounts import sessions, tokens
from tests.conftest import TEST_SECRET_KEY

OWNER = "rita@example.com"
ATTACKER_PASSWORD = "attacker-chose-this"
OWNER_PASSWORD = "owner-chose-this-one"


def register(browser, password):
    return browser.post(
        "/register",
        data={
            "name": "Rita Patel",
            "email": OWNER,
            "phone": "",
            "password": password,
            "confirm": password,
        },
    )


def signed_in(browser) -> bool:
    return "Sign out" in browser.get("/").get_data(as_text=True)


def password_sign_in(browser, password):
    return browser.post("/login", data={"email": OWNER, "password": password})


def token_request(browser, password):
    return browser.post("/api/v1/auth/token", json={"email": OWNER, "password": password})


def owner_account() -> User:
    return db.session.scalars(select(User).where(User.email == OWNER)).one()


def test_an_unconfirmed_registration_signs_in_nowhere(mail_app, inbox):
    attacker = mail_app.test_client()
    register(attacker, ATTACKER_PASSWORD)
    response = password_sign_in(attacker, ATTACKER_PASSWORD)
    assert response.status_code == 403
    assert "not confirmed yet" in response.get_data(as_text=True)
    assert not signed_in(attacker)
    response = token_request(attacker, ATTACKER_PASSWORD)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "email_not_confirmed"


def test_owner_registering_after_the_attacker_keeps_only_the_owners_password(mail_app, inbox):
    attacker, owner = mail_app.test_client(), mail_app.test_client()
    register(attacker, ATTACKER_PASSWORD)
    register(owner, OWNER_PASSWORD)
    response = owner.post("/register/confirm", data={"code": inbox.last_code(OWNER)})
    assert response.status_code == 302 and signed_in(owner)

    assert password_sign_in(attacker, ATTACKER_PASSWORD).status_code == 401
    assert not signed_in(attacker)
    assert token_request(attacker, ATTACKER_PASSWORD).status_code == 401
    assert token_request(owner, OWNER_PASSWORD).status_code == 200


def test_re_registering_retires_the_owners_pending_code(mail_app, inbox):
    """The attacker registers again between the owner's registration and confirmation: the
    owner's code (which would keep the attacker's new password) stops working."""
    attacker, owner = mail_app.test_client(), mail_app.test_client()
    register(owner, OWNER_PASSWORD)
    owners_code = inbox.last_code(OWNER)
    register(attacker, ATTACKER_PASSWORD)
    response = owner.post("/register/confirm", data={"code": owners_code})
    assert response.status_code == 401 and not signed_in(owner)
    assert owner_account().email_verified_at is None
    assert password_sign_in(attacker, ATTACKER_PASSWORD).status_code == 403


def test_a_code_sign_in_by_the_owner_clears_the_attackers_password(mail_app, inbox):
    attacker, owner = mail_app.test_client(), mail_app.test_client()
    register(attacker, ATTACKER_PASSWORD)
    owner.post("/login/code", data={"email": OWNER, "channel": "email"})
    response = owner.post("/login/code/verify", data={"code": inbox.last_code(OWNER)})
    assert response.status_code == 302 and signed_in(owner)
    account = owner_account()
    assert account.email_verified_at is not None and account.password_hash is None
    assert password_sign_in(attacker, ATTACKER_PASSWORD).status_code == 401
    assert token_request(attacker, ATTACKER_PASSWORD).status_code == 401


def test_confirming_ends_every_session_and_token_opened_before(mail_app, inbox):
    """Sessions or tokens an unconfirmed account may hold (opened before this rule) end when
    the owner proves the inbox."""
    attacker, owner = mail_app.test_client(), mail_app.test_client()
    register(attacker, ATTACKER_PASSWORD)
    account = owner_account()
    now = datetime.now(UTC)
    session_token = sessions.start_session(account.id, now=now, absolute_hours=12)
    token = tokens.issue_token(account, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=now)
    with attacker.session_transaction() as cookie:
        cookie["sid"] = session_token
        cookie["_user_id"] = str(account.id)
    assert signed_in(attacker)
    api = {"Authorization": f"Bearer {token}"}
    assert attacker.get("/api/v1/me", headers=api).status_code == 200

    owner.post("/login/code", data={"email": OWNER, "channel": "email"})
    owner.post("/login/code/verify", data={"code": inbox.last_code(OWNER)})
    assert signed_in(owner)
    assert not signed_in(attacker)
    assert attacker.get("/api/v1/me", headers=api).status_code == 401
