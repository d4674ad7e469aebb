"""Wrong passwords: one budget per address for the web and the API together, then a growing
delay ("try again in N seconds") rather than a lock-out; a code or reset link still works."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from app.extensions import db
from app.models import Role, SignInThrottle
from app.services.accounts import throttle
from tests.factories import PASSWORD, make_user

EMAIL = "ana@example.com"


def web(client, password="nope"):
    return client.post("/login", data={"email": EMAIL, "password": password})


def api(client, password="nope"):
    return client.post("/api/v1/auth/token", json={"email": EMAIL, "password": password})


def waits(response, at_most: int, more_than: int = 0) -> bool:
    """A 429 naming a wait of at most `at_most` seconds (the full delay, less the time the
    requests took on a busy machine: never asserted to the second)."""
    retry = int(response.headers["Retry-After"])
    return response.status_code == 429 and more_than < retry <= at_most


def wait_out_the_delay() -> None:
    db.session.execute(
        update(SignInThrottle).values(blocked_until=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()


def test_web_and_api_failures_share_one_budget_then_wait(mail_app):
    make_user(Role.PATIENT, email=EMAIL)
    client = mail_app.test_client()
    for attempt in (web, api, web, api, web):
        assert attempt(client).status_code == 401
    assert api(client).status_code == 401  # the 6th: checked, and now the address waits

    for attempt in (web, api):
        refused = attempt(client, PASSWORD)  # even the right password waits
        assert waits(refused, 2)
    assert re.search(r"Try again in [12] seconds", web(client).get_data(as_text=True))
    body = api(client).get_json()["error"]
    assert body["code"] == "sign_in_throttled" and body["details"]["retry_after"] in (1, 2)

    wait_out_the_delay()
    assert web(client, PASSWORD).status_code == 302
    assert db.session.scalar(select(SignInThrottle)) is None  # a success starts afresh


def test_the_delay_grows_and_is_capped():
    assert [throttle.delay_after(n).total_seconds() for n in (5, 6, 7, 10)] == [
        0,
        2,
        4,
        32,
    ]
    assert throttle.delay_after(40) == timedelta(minutes=15)


def test_the_delay_grows_with_each_further_failure(mail_app):
    make_user(Role.PATIENT, email=EMAIL)
    client = mail_app.test_client()
    for _ in range(6):
        web(client)
    wait_out_the_delay()
    assert api(client).status_code == 401
    assert waits(api(client), 4, more_than=2)  # longer than the first wait


def test_unknown_addresses_wait_the_same(mail_app):
    client = mail_app.test_client()
    for _ in range(6):
        assert (
            client.post("/login", data={"email": "nobody@example.com", "password": "x"}).status_code
            == 401
        )
    response = client.post("/login", data={"email": "nobody@example.com", "password": "x"})
    assert waits(response, 2)


def test_the_owner_still_signs_in_with_an_emailed_code_and_that_clears_the_wait(mail_app, inbox):
    make_user(Role.PATIENT, email=EMAIL)
    attacker, owner = mail_app.test_client(), mail_app.test_client()
    for _ in range(12):
        web(attacker)
    assert web(owner, PASSWORD).status_code == 429

    owner.post("/login/code", data={"email": EMAIL, "channel": "email"})
    response = owner.post("/login/code/verify", data={"code": inbox.last_code(EMAIL)})

    assert response.status_code == 302
    owner.post("/logout")
    assert web(owner, PASSWORD).status_code == 302


def test_a_reset_link_clears_the_wait(mail_app, inbox):
    make_user(Role.PATIENT, email=EMAIL)
    client = mail_app.test_client()
    for _ in range(12):
        web(client)
    client.post("/password/forgot", data={"email": EMAIL})
    token = urlsplit(inbox.last_link(EMAIL)).query.removeprefix("token=")
    new = "a-brand-new-password"
    data = {"token": token, "password": new, "confirm": new}
    assert client.post("/password/reset", data=data).status_code == 302
    client.post("/logout")
    assert web(client, new).status_code == 302
