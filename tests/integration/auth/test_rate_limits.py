"""Rate limits on sign-in, codes, registration and password reset (turned on for these tests)."""

from app.models import Role
from tests.factories import PASSWORD, make_user


def test_wrong_passwords_are_limited_per_account(limited_app, inbox):
    make_user(Role.PATIENT, email="ana@example.com")
    client = limited_app.test_client()
    for _ in range(10):
        response = client.post("/login", data={"email": "ana@example.com", "password": "nope"})
        assert response.status_code == 401
    response = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    # Another account from the same address is not held up by that.
    make_user(Role.PATIENT, email="bob@example.com")
    response = client.post("/login", data={"email": "bob@example.com", "password": PASSWORD})
    assert response.status_code == 302


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


def test_wrong_passwords_on_the_token_endpoint_are_limited_per_account(limited_app):
    make_user(Role.PATIENT, email="ana@example.com")
    client = limited_app.test_client()
    for _ in range(10):
        response = client.post(
            "/api/v1/auth/token", json={"email": "ana@example.com", "password": "nope"}
        )
        assert response.status_code == 401
    blocked = client.post(
        "/api/v1/auth/token", json={"email": "ana@example.com", "password": "correct-horse-battery"}
    )
    assert blocked.status_code == 429
    assert blocked.get_json()["error"]["code"] == "too_many_requests"
