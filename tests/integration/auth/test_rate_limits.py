"""Rate limits on sign-in, codes, registration and password reset (turned on for these tests)."""

from app.models import Role
from tests.factories import PASSWORD, make_user


def test_good_sign_ins_do_not_count(limited_app):
    make_user(Role.PATIENT, email="ana@example.com")
    client = limited_app.test_client()
    for _ in range(12):
        assert (
            client.post(
                "/login", data={"email": "ana@example.com", "password": PASSWORD}
            ).status_code
            == 302
        )
        client.post("/logout")


def test_code_requests_are_limited_per_account_and_per_address(limited_app, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    client = limited_app.test_client()
    statuses = [
        client.post(
            "/login/code", data={"email": "ana@example.com", "channel": "email"}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert len(inbox.to("ana@example.com")) == 3
    statuses = [
        client.post(
            "/login/code", data={"email": f"x{i}@example.com", "channel": "email"}
        ).status_code
        for i in range(8)
    ]
    assert statuses[-1] == 429  # 10 a minute from one address


def test_code_checks_are_limited(limited_app, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    client = limited_app.test_client()
    client.post("/login/code", data={"email": "ana@example.com", "channel": "email"})
    statuses = [
        client.post("/login/code/verify", data={"code": "000000"}).status_code for _ in range(11)
    ]
    assert statuses[-1] == 429


def test_registration_and_reset_requests_are_limited(limited_app, inbox):
    client = limited_app.test_client()
    statuses = [client.post("/register", data={"email": "bad"}).status_code for _ in range(6)]
    assert statuses[:5] == [422] * 5 and statuses[5] == 429
    make_user(Role.PATIENT, email="ana@example.com")
    statuses = [
        client.post("/password/forgot", data={"email": "ana@example.com"}).status_code
        for _ in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert len(inbox.to("ana@example.com")) == 3


def test_the_second_factor_is_limited(limited_app):
    import pyotp

    make_user(Role.PATIENT, email="ana@example.com", totp_secret=pyotp.random_base32())
    client = limited_app.test_client()
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    statuses = [client.post("/login/2fa", data={"code": "000000"}).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_wrong_passwords_at_account_confirm_are_capped_per_hour(limited_app, monkeypatch):
    import time as real_time

    import limits.storage.memory

    class Clock:
        now = real_time.time()

        @classmethod
        def time(cls) -> float:
            return cls.now

    monkeypatch.setattr(limits.storage.memory, "time", Clock)
    make_user(Role.PATIENT, email="ana@example.com")
    client = limited_app.test_client()
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    statuses = []
    for _ in range(5):  # five minutes, a few guesses in each: under any per-minute limit
        statuses += [
            client.post("/account/confirm", data={"pw-password": "nope"}).status_code
            for _ in range(5)
        ]
        Clock.now += 61
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}


REGISTRATION = {"name": "Rita", "password": "a-long-password", "confirm": "a-long-password"}


def _from(n: int) -> dict:
    return {"REMOTE_ADDR": f"10.0.0.{n}"}  # each try from another address: per-IP limits stay out


def test_registration_codes_are_limited_per_email_address(limited_app, inbox):
    client = limited_app.test_client()
    statuses = [
        client.post(
            "/register",
            data={**REGISTRATION, "email": "Rita@Example.com" if n % 2 else "rita@example.com"},
            environ_base=_from(n),
        ).status_code
        for n in range(6)
    ]
    assert statuses == [302] * 5 + [429]
    assert len(inbox.to("rita@example.com")) == 5
    refused = client.post(
        "/register", data={**REGISTRATION, "email": "rita@example.com"}, environ_base=_from(9)
    )
    assert "Too many codes were sent to this email address" in refused.get_data(as_text=True)
    # Another address is not held up.
    other = client.post(
        "/register", data={**REGISTRATION, "email": "sam@example.com"}, environ_base=_from(10)
    )
    assert other.status_code == 302


def test_registration_codes_are_limited_per_phone_number(limited_app, inbox, sms):
    client = limited_app.test_client()
    statuses = [
        client.post(
            "/register",
            data={**REGISTRATION, "email": f"r{n}@example.com", "phone": "+1 415 555 0123"},
            environ_base=_from(n),
        ).status_code
        for n in range(6)
    ]
    assert statuses == [302] * 5 + [429]
    assert len([to for to, _ in sms.messages if to == "+14155550123"]) == 5
    # Without a phone, registrations do not share a count.
    for n in range(6, 9):
        response = client.post(
            "/register", data={**REGISTRATION, "email": f"r{n}@example.com"}, environ_base=_from(n)
        )
        assert response.status_code == 302
