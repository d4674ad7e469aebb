"""Signing in with a one-time code sent by email or SMS."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, CodeChannel, Role
from app.services.accounts import accounts, codes
from tests.factories import make_user


def ask_code(client, email, channel="email"):
    return client.post("/login/code", data={"email": email, "channel": channel})


def enter_code(client, code):
    return client.post("/login/code/verify", data={"code": code})


def signed_in(client) -> bool:
    return "Sign out" in client.get("/").get_data(as_text=True)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_an_emailed_code_signs_in(web, inbox):
    make_user(Role.PATIENT, email="ana@example.com", name="Ana Lima")
    response = ask_code(web, "ANA@example.com")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/code/verify")
    [message] = inbox.to("ana@example.com")
    assert message.subject == "Your Carebook sign-in code"
    response = enter_code(web, inbox.last_code("ana@example.com"))
    assert response.status_code == 302
    assert "Ana Lima" in web.get("/").get_data(as_text=True)
    actions = list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions == ["auth.code_sent", "auth.sign_in"]


def test_unknown_and_known_emails_get_the_same_answer(web, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    known = ask_code(web, "ana@example.com")
    unknown = ask_code(web, "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    known_page = web.get(known.headers["Location"]).get_data(as_text=True)
    assert "If an account uses that address" in known_page
    assert inbox.to("nobody@example.com") == []
    assert enter_code(web, "123456").status_code == 401


def test_a_code_is_used_once(mail_app, web, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    ask_code(web, "ana@example.com")
    code = inbox.last_code("ana@example.com")
    assert enter_code(web, code).status_code == 302
    web.post("/logout")
    response = enter_code(web, code)  # the attempt id went with the old session
    assert response.status_code == 401
    assert not signed_in(web)


def test_a_code_only_works_in_the_browser_that_asked_for_it(mail_app, web, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    ask_code(web, "ana@example.com")
    thief = mail_app.test_client()
    response = enter_code(thief, inbox.last_code("ana@example.com"))
    assert response.status_code == 401
    assert not signed_in(thief)


def test_five_wrong_codes_spoil_the_code(web, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    ask_code(web, "ana@example.com")
    code = inbox.last_code("ana@example.com")
    for _ in range(5):
        response = enter_code(web, other_code(code))
        assert response.status_code == 401
        assert "That code is not valid" in response.get_data(as_text=True)
    assert enter_code(web, code).status_code == 401
    assert not signed_in(web)


def test_a_new_code_retires_the_previous_one(web, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    ask_code(web, "ana@example.com")
    first = inbox.last_code("ana@example.com")
    ask_code(web, "ana@example.com")
    second = inbox.last_code("ana@example.com")
    if first != second:
        assert enter_code(web, first).status_code == 401
    assert enter_code(web, second).status_code == 302


def test_a_code_expires_after_ten_minutes(mail_app, inbox):
    user_id = make_user(Role.PATIENT, email="ana@example.com").id
    now = datetime.now(UTC)
    attempt = codes.new_attempt_id()
    with mail_app.app_context():
        accounts.request_sign_in_code(
            "ana@example.com", channel=CodeChannel.EMAIL, attempt_id=attempt, now=now
        )
        code = inbox.last_code("ana@example.com")
        late = now + timedelta(minutes=10, seconds=1)
        with pytest.raises(codes.InvalidCode):
            accounts.sign_in_with_code(attempt, code, now=late)
        in_time = now + timedelta(minutes=9)
        assert accounts.sign_in_with_code(attempt, code, now=in_time).id == user_id
        db.session.remove()


def test_a_code_by_sms_goes_to_the_verified_phone(web, inbox, sms):
    make_user(
        Role.PATIENT,
        email="ana@example.com",
        phone="+14155550123",
        phone_verified_at=datetime.now(UTC),
    )
    ask_code(web, "ana@example.com", channel="sms")
    assert inbox.to("ana@example.com") == []
    assert enter_code(web, sms.last_code("+14155550123")).status_code == 302
    assert signed_in(web)


def test_no_sms_code_to_an_unverified_phone(web, inbox, sms):
    make_user(Role.PATIENT, email="ana@example.com", phone="+14155550123")
    assert ask_code(web, "ana@example.com", channel="sms").status_code == 302
    assert sms.messages == []


def test_deactivated_accounts_get_no_code(web, inbox):
    make_user(Role.PATIENT, email="gone@example.com", is_active=False)
    assert ask_code(web, "gone@example.com").status_code == 302
    assert inbox.to("gone@example.com") == []


def test_a_failed_delivery_is_audited_and_shown(make_app, database_url, ctx):
    from tests.servers import free_port

    app = make_app(database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody there
    make_user(Role.PATIENT, email="ana@example.com")
    response = ask_code(app.test_client(), "ana@example.com")
    assert response.status_code == 503
    assert "could not send the code" in response.get_data(as_text=True)
    assert "auth.code_failed" in set(db.session.scalars(select(AuditLog.action)))


def test_code_sign_in_also_asks_for_the_authenticator_code_when_2fa_is_on(web, inbox):
    make_user(Role.PATIENT, email="ana@example.com", totp_secret="RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO")
    ask_code(web, "ana@example.com")
    response = enter_code(web, inbox.last_code("ana@example.com"))
    assert response.headers["Location"] == "/login/2fa"
    assert not signed_in(web)
