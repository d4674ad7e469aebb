"""Patients register, confirm their email (and phone) with a code, and only then book."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, OneTimeCode, Role, User
from app.services import accounts
from tests.factories import make_user

FORM = {
    "name": "Rita Patel",
    "email": "Rita@Example.com",
    "phone": "",
    "password": "a-long-password",
    "confirm": "a-long-password",
}


def register(web, **changes):
    return web.post("/register", data={**FORM, **changes})


def test_registration_signs_in_and_emails_a_code_to_confirm_the_address(web, inbox):
    response = register(web)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/verify"
    page = web.get("/account/verify").get_data(as_text=True)
    assert "Enter the 6-digit code we emailed to" in page
    assert "Rita Patel" in page
    [message] = inbox.to("rita@example.com")
    assert message.subject == "Confirm your email for Carebook"
    user = db.session.scalars(select(User)).one()
    assert user.role is Role.PATIENT and user.email_verified_at is None
    assert user.password_hash.startswith("$argon2id$")
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"account.registered", "auth.code_sent"} <= actions


def test_the_emailed_code_confirms_the_email(web, inbox):
    register(web)
    code = inbox.last_code("rita@example.com")
    wrong = "000000" if code != "000000" else "111111"
    response = web.post("/account/verify/email", data={"email-code": wrong})
    assert response.status_code == 401
    assert "That code is not valid" in response.get_data(as_text=True)
    response = web.post("/account/verify/email", data={"email-code": code})
    assert response.status_code == 302
    page = web.get("/account/verify").get_data(as_text=True)
    assert "is confirmed" in page
    user = db.session.scalars(select(User)).one()
    assert user.email_verified_at is not None
    assert "account.email_verified" in set(db.session.scalars(select(AuditLog.action)))


def test_a_phone_given_at_registration_gets_its_own_code_by_sms(web, inbox, sms):
    register(web, phone="+1 415 555 0123")
    code = sms.last_code("+14155550123")
    assert web.post("/account/verify/phone", data={"phone-code": code}).status_code == 302
    user = db.session.scalars(select(User)).one()
    assert user.phone == "+14155550123"
    assert user.phone_verified_at is not None
    assert user.email_verified_at is None  # the email code is separate


def test_a_code_works_only_in_the_browser_session_it_was_sent_for(mail_app, web, inbox):
    register(web)
    code = inbox.last_code("rita@example.com")
    other = mail_app.test_client()
    other.post("/login", data={"email": "rita@example.com", "password": "a-long-password"})
    response = other.post("/account/verify/email", data={"email-code": code})
    assert response.status_code == 401
    assert db.session.scalars(select(User)).one().email_verified_at is None


def test_codes_are_stored_only_as_hashes(web, inbox):
    register(web)
    code = inbox.last_code("rita@example.com")
    row = db.session.scalars(select(OneTimeCode)).one()
    assert code not in row.code_hash and len(row.code_hash) == 64


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"email": "not-an-email"}, 422, "Invalid email address"),
        ({"phone": "12345"}, 422, "international form"),
        ({"confirm": "something-else"}, 422, "The passwords differ."),
        ({"password": "short", "confirm": "short"}, 422, "at least 8"),
        ({"name": ""}, 422, "This field is required."),
    ],
)
def test_bad_registration_input_is_a_form_error(web, inbox, changes, status, message):
    response = register(web, **changes)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(User)).all() == []


def test_an_email_already_in_use_cannot_register_again(web, inbox):
    make_user(Role.PATIENT, email="rita@example.com")
    response = register(web)
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)


def test_booking_needs_a_verified_account(web, inbox):
    register(web)
    user = db.session.scalars(select(User)).one()
    with pytest.raises(accounts.AccountNotVerified) as refused:
        accounts.require_verified(user)
    assert refused.value.status_code == 403
    web.post("/account/verify/email", data={"email-code": inbox.last_code("rita@example.com")})
    db.session.refresh(user)
    accounts.require_verified(user)  # no error now


def test_accounts_made_by_an_admin_or_the_cli_count_as_verified(ctx):
    user = accounts.create_user(email="made@example.com", role="patient", password="long-enough")
    accounts.require_verified(user)
    assert user.email_verified_at is not None


def test_registration_form_needs_its_csrf_token(make_app, database_url, ctx):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/register", data=FORM)
    assert response.status_code == 400
    assert db.session.scalars(select(User)).all() == []
