"""Two clients refreshing with the same token at the same moment, on PostgreSQL behind
gunicorn (the `live_server` fixture): exactly one gets new tokens. The others are reuse of a
retired token, so the family is revoked, the winner's new refresh token included."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import RefreshToken, Role
from tests.factories import PASSWORD, make_user

TIMEOUT = 60
CLIENTS = 8


def _race(base_url: str, token: str) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(CLIENTS)

    def post(_):
        with requests.Session() as session:
            barrier.wait(timeout=TIMEOUT)
            response = session.post(
                f"{base_url}/api/v1/auth/refresh", json={"refresh_token": token}, timeout=TIMEOUT
            )
            return response.status_code, response.json()

    db.session.remove()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        replies = list(pool.map(post, range(CLIENTS)))
    db.session.remove()
    return replies


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_refreshes_of_one_token_let_exactly_one_win(live_server, ctx, round_):
    make_user(Role.PATIENT, email="ana@example.com")
    db.session.commit()
    issued = requests.post(
        f"{live_server}/api/v1/auth/token",
        json={"email": "ana@example.com", "password": PASSWORD},
        timeout=TIMEOUT,
    ).json()

    replies = _race(live_server, issued["refresh_token"])

    statuses = sorted(status for status, _ in replies)
    assert statuses == [200] + [401] * (CLIENTS - 1), replies
    assert {body["error"]["code"] for status, body in replies if status == 401} == {
        "invalid_refresh_token"
    }
    rows = db.session.scalars(select(RefreshToken).order_by(RefreshToken.id)).all()
    assert len(rows) == 2  # the original and exactly one child
    assert rows[1].parent_id == rows[0].id
    assert all(row.revoked_at is not None for row in rows)
    (winner,) = [body for status, body in replies if status == 200]
    again = requests.post(
        f"{live_server}/api/v1/auth/refresh",
        json={"refresh_token": winner["refresh_token"]},
        timeout=TIMEOUT,
    )
    assert again.status_code == 401
