"""Patients register, confirm their email (and phone) with a code, and only then book."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, OneTimeCode, Role, User
from app.services.accounts import accounts
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


def signed_in(web) -> bool:
    return "Sign out" in web.get("/").get_data(as_text=True)


def confirm(web, code):
    return web.post("/register/confirm", data={"code": code})


def test_registration_emails_a_code_and_signs_in_only_once_it_comes_back(web, inbox):
    response = register(web)
    assert response.status_code == 302
    assert response.headers["Location"] == "/register/confirm"
    page = web.get("/register/confirm").get_data(as_text=True)
    assert "Enter the 6-digit code we emailed to" in page and "rita@example.com" in page
    assert not signed_in(web)
    [message] = inbox.to("rita@example.com")
    assert message.subject == "Confirm your email for Carebook"
    user = db.session.scalars(select(User)).one()
    assert user.role is Role.PATIENT and user.email_verified_at is None
    assert user.password_hash.startswith("$argon2id$")
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"account.registered", "auth.code_sent"} <= actions


def test_the_emailed_code_confirms_the_email_and_signs_in(web, inbox):
    register(web)
    code = inbox.last_code("rita@example.com")
    wrong = "000000" if code != "000000" else "111111"
    response = confirm(web, wrong)
    assert response.status_code == 401
    assert "That code is not valid" in response.get_data(as_text=True)
    assert not signed_in(web)
    response = confirm(web, code)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(web)
    user = db.session.scalars(select(User)).one()
    assert user.email_verified_at is not None
    assert "account.email_verified" in set(db.session.scalars(select(AuditLog.action)))


def test_a_phone_given_at_registration_gets_its_own_code_by_sms(web, inbox, sms):
    register(web, phone="+1 415 555 0123")
    response = confirm(web, inbox.last_code("rita@example.com"))
    assert response.headers["Location"] == "/account/verify"  # the phone is next
    code = sms.last_code("+14155550123")
    assert web.post("/account/verify/phone", data={"phone-code": code}).status_code == 302
    user = db.session.scalars(select(User)).one()
    assert user.phone == "+14155550123"
    assert user.phone_verified_at is not None


def test_a_code_works_only_in_the_browser_session_it_was_sent_for(mail_app, web, inbox):
    register(web)
    code = inbox.last_code("rita@example.com")
    other = mail_app.test_client()
    other.post("/register", data={**FORM, "email": "someone@example.com"})
    response = other.post("/register/confirm", data={"code": code})
    assert response.status_code == 401
    assert all(u.email_verified_at is None for u in db.session.scalars(select(User)))


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


def test_an_address_in_use_gets_the_same_answer_and_its_owner_a_note(web, inbox):
    owner = make_user(Role.PATIENT, email="rita@example.com", name="Rita Owner")
    response = register(web)
    assert response.status_code == 302
    assert response.headers["Location"] == "/register/confirm"
    page = web.get("/register/confirm").get_data(as_text=True)
    assert "Enter the 6-digit code we emailed to" in page
    [note] = inbox.to("rita@example.com")
    assert "already has one" in note.body and not re.search(r"\b\d{6}\b", note.body)
    assert confirm(web, "123456").status_code == 401  # no code exists to match
    assert not signed_in(web)
    db.session.refresh(owner)
    assert owner.name == "Rita Owner"  # nothing about the account changed
    assert db.session.scalars(select(User)).all() == [owner]


def test_an_abandoned_registration_can_be_started_again(web, inbox):
    register(web)
    fresh = web.application.test_client()
    fresh.post("/register", data={**FORM, "name": "Rita P."})
    response = fresh.post("/register/confirm", data={"code": inbox.last_code("rita@example.com")})
    assert response.status_code == 302
    user = db.session.scalars(select(User)).one()
    assert (user.name, user.email_verified_at is not None) == ("Rita P.", True)


def test_booking_needs_a_verified_account(web, inbox):
    register(web)
    user = db.session.scalars(select(User)).one()
    with pytest.raises(accounts.AccountNotVerified) as refused:
        accounts.require_verified(user)
    assert refused.value.status_code == 403
    confirm(web, inbox.last_code("rita@example.com"))
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
