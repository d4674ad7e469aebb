"""Password reset and set-password links, first passwords, and changes that ask 'is it you?'."""

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Role, User, UserSession
from app.services.accounts import accounts, passwords
from app.services.errors import DomainError
from tests.factories import PASSWORD, make_user

NEW = "a-brand-new-password"


def path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def token(link: str) -> str:
    return urlsplit(link).query.removeprefix("token=")


def signed_in(client) -> bool:
    return "Sign out" in client.get("/").get_data(as_text=True)


def test_a_reset_link_is_emailed_and_sets_a_new_password_once(mail_app, web, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    other = mail_app.test_client()
    other.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    response = web.post("/password/forgot", data={"email": "ana@example.com"})
    assert response.status_code == 302
    link = inbox.last_link("ana@example.com")
    assert web.get(path(link)).status_code == 200
    response = web.post(
        "/password/reset", data={"token": token(link), "password": NEW, "confirm": NEW}
    )
    assert response.status_code == 302
    assert not signed_in(other)  # every session ends with the old password
    assert web.post("/login", data={"email": "ana@example.com", "password": NEW}).status_code == 302
    web.post("/logout")
    again = web.post(
        "/password/reset", data={"token": token(link), "password": NEW + "x", "confirm": NEW + "x"}
    )
    assert again.status_code == 400
    assert "not valid any more" in again.get_data(as_text=True)
    assert inbox.to("ana@example.com")[-1].subject == "Your Carebook password was changed"
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"auth.password_reset_requested", "auth.password_reset"} <= actions


def test_unknown_emails_get_the_same_answer_and_no_email(web, inbox):
    response = web.post("/password/forgot", data={"email": "nobody@example.com"})
    assert response.status_code == 302
    assert "If an account uses that address" in web.get("/login").get_data(as_text=True)
    assert inbox.messages == []


def test_a_reset_link_expires(mail_app, inbox):
    user_id = make_user(Role.PATIENT, email="ana@example.com").id
    with mail_app.app_context():
        passwords.request_password_reset("ana@example.com", now=datetime.now(UTC))
        link_token = token(inbox.last_link("ana@example.com"))
        later = datetime.now(UTC) + timedelta(minutes=61)
        assert (
            passwords.user_for_link(link_token, purpose="reset", now=datetime.now(UTC)).id
            == user_id
        )
        try:
            passwords.user_for_link(link_token, purpose="reset", now=later)
        except passwords.InvalidPasswordLink:
            pass
        else:
            raise AssertionError("an expired link was accepted")
        db.session.remove()


def test_a_tampered_or_cross_purpose_link_is_refused(web, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    web.post("/password/forgot", data={"email": "ana@example.com"})
    link_token = token(inbox.last_link("ana@example.com"))
    assert web.get(f"/password/reset?token={link_token}x").status_code == 400
    assert web.get(f"/password/set?token={link_token}").status_code == 400


def test_admin_made_account_gets_a_set_password_link(mail_app, web, inbox):
    admin = make_user(Role.ADMIN)
    with mail_app.app_context():
        user = accounts.create_user(email="new@example.com", role="doctor", password=None)
        passwords.send_set_password_link(user.id, now=datetime.now(UTC), actor_id=admin.id)
        db.session.remove()
    message = inbox.to("new@example.com")[-1]
    assert message.subject == "Choose your Carebook password"
    link = inbox.last_link("new@example.com")
    assert link.startswith(f"{mail_app.config['PUBLIC_BASE_URL']}/password/set?token=")
    assert "For new@example.com" in web.get(path(link)).get_data(as_text=True)
    response = web.post(
        "/password/set", data={"token": token(link), "password": NEW, "confirm": NEW}
    )
    assert response.status_code == 302
    assert web.post("/login", data={"email": "new@example.com", "password": NEW}).status_code == 302
    web.post("/logout")
    assert web.get(path(link)).status_code == 400  # used once


def test_a_temporary_password_must_be_replaced_at_first_sign_in(client):
    make_user(Role.PATIENT, email="ana@example.com", must_change_password=True)
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    response = client.get("/account")
    assert response.headers["Location"] == "/account/password/choose"
    same = client.post("/account/password/choose", data={"password": PASSWORD, "confirm": PASSWORD})
    assert same.status_code == 422
    response = client.post("/account/password/choose", data={"password": NEW, "confirm": NEW})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert db.session.scalars(select(User)).one().must_change_password is False


def test_changing_the_password_needs_a_recent_check_and_ends_other_sessions(app, client):
    make_user(Role.PATIENT, email="ana@example.com")
    other = app.test_client()
    for c in (client, other):
        c.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    with client.session_transaction() as session:
        session["reauth_at"] = (datetime.now(UTC) - timedelta(minutes=30)).timestamp()
    response = client.post("/account/password", data={"password": NEW, "confirm": NEW})
    assert response.headers["Location"].startswith("/account/confirm")
    client.post("/account/confirm", data={"pw-password": PASSWORD})
    response = client.post("/account/password", data={"password": NEW, "confirm": NEW})
    assert response.status_code == 302
    assert signed_in(client) and not signed_in(other)
    assert len([s for s in db.session.scalars(select(UserSession)) if s.revoked_at is None]) == 1
    assert "auth.password_changed" in set(db.session.scalars(select(AuditLog.action)))


def test_confirming_with_an_emailed_code_instead_of_the_password(web, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    web.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    with web.session_transaction() as session:
        session["reauth_at"] = 0
    assert web.post("/account/confirm/send-code").status_code == 302
    response = web.post(
        "/account/confirm/code?next=/account/email",
        data={"code-code": inbox.last_code("ana@example.com")},
    )
    assert response.headers["Location"] == "/account/email"
    assert web.get("/account/email").status_code == 200


def test_changing_the_email_needs_a_code_sent_to_the_new_address(web, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    web.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    response = web.post("/account/email", data={"email": "ana.new@example.com"})
    assert response.headers["Location"] == "/account/email/confirm"
    code = inbox.last_code("ana.new@example.com")
    assert web.post("/account/email/confirm", data={"code": code}).status_code == 302
    user = db.session.scalars(select(User)).one()
    assert user.email == "ana.new@example.com" and user.email_verified_at is not None
    assert inbox.to("ana@example.com")[-1].subject == "Your Carebook email address was changed"
    assert "account.email_changed" in set(db.session.scalars(select(AuditLog.action)))


def test_an_address_with_an_account_gets_the_same_answer_and_the_clash_shows_after_the_code(
    web, inbox
):
    make_user(Role.PATIENT, email="ana@example.com")
    make_user(Role.PATIENT, email="bea@example.com")
    web.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    fresh = web.post("/account/email", data={"email": "nobody@example.com"})

    taken = web.post("/account/email", data={"email": "BEA@example.com"})

    assert taken.status_code == fresh.status_code == 302
    assert taken.headers["Location"] == fresh.headers["Location"] == "/account/email/confirm"
    code = inbox.last_code("bea@example.com")
    response = web.post("/account/email/confirm", data={"code": code})
    assert response.status_code == 409
    assert "already has a Carebook account" in response.get_data(as_text=True)
    emails = set(db.session.scalars(select(User.email)))
    assert emails == {"ana@example.com", "bea@example.com"}
    assert web.post("/account/email/confirm", data={"code": code}).status_code == 401  # used


def test_changing_the_phone_needs_a_code_sent_to_the_new_number(web, inbox, sms):
    make_user(Role.PATIENT, email="ana@example.com")
    web.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert web.post("/account/phone", data={"phone": "+442071838750"}).status_code == 302
    code = sms.last_code("+442071838750")
    assert web.post("/account/phone/confirm", data={"code": code}).status_code == 302
    user = db.session.scalars(select(User)).one()
    assert user.phone == "+442071838750" and user.phone_verified_at is not None
    assert "account.phone_changed" in set(db.session.scalars(select(AuditLog.action)))


def test_nothing_secret_reaches_the_logs_when_smtp_is_configured(web, inbox, sms, caplog):
    caplog.set_level(logging.DEBUG)
    web.post(
        "/register",
        data={
            "name": "Rita",
            "email": "rita@example.com",
            "phone": "+14155550123",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    verify_code = inbox.last_code("rita@example.com")
    web.post("/register/confirm", data={"code": verify_code})
    web.post("/logout")
    web.post("/login/code", data={"email": "rita@example.com", "channel": "email"})
    sign_in_code = inbox.last_code("rita@example.com")
    web.post("/login/code/verify", data={"code": sign_in_code})
    web.post("/password/forgot", data={"email": "rita@example.com"})
    link = inbox.last_link("rita@example.com")
    ours = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")
    )  # aiosmtpd, the test's own SMTP server, logs what it receives
    assert "email sent to=rita@example.com" in ours
    for secret in (verify_code, sign_in_code, link, token(link)):
        assert secret not in ours
    sessions_ = db.session.scalars(select(UserSession.token_hash)).all()
    assert sessions_


def test_short_new_password_is_a_form_error(client):
    make_user(Role.PATIENT, email="ana@example.com")
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    response = client.post("/account/password", data={"password": "short", "confirm": "short"})
    assert response.status_code == 422


def test_services_refuse_a_stale_check(ctx):
    user = make_user(Role.PATIENT)
    try:
        passwords.change_password(
            user.id, NEW, reauthenticated_at=None, session_token=None, now=datetime.now(UTC)
        )
    except DomainError as exc:
        assert exc.status_code == 403
    else:
        raise AssertionError("changed without a recent check")
