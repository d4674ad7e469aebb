"""Request bodies over MAX_CONTENT_LENGTH get a 413 before any of the body is read (security
issue 15, item 7): JSON under /api/ and /webhooks/, a plain page elsewhere."""

from __future__ import annotations

import io

import pytest

HUGE = 100 * 1024 * 1024


class UnreadBody(io.RawIOBase):
    """A wsgi.input of endless `[` that counts what is read of it."""

    def __init__(self):
        self.bytes_read = 0
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.reads += 1
        size = len(buffer)
        buffer[:size] = b"[" * size
        self.bytes_read += size
        return size


def _post_huge(client, path: str, content_type: str) -> tuple:
    body = UnreadBody()
    response = client.post(
        path,
        content_type=content_type,
        environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(HUGE)},
        headers={"Stripe-Signature": "t=1,v1=0"} if path.startswith("/webhooks/") else {},
    )
    return response, body


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/appointments", "/webhooks/stripe"])
def test_a_huge_json_body_is_refused_unread_as_json(client, path):
    response, body = _post_huge(client, path, "application/json")

    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "request_entity_too_large"
    assert "1 MiB" in error["message"]
    assert body.reads == 0 and body.bytes_read == 0


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_a_huge_form_is_refused_unread_with_a_page(client, path):
    response, body = _post_huge(client, path, "application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "1 MiB" in response.get_data(as_text=True)
    assert body.bytes_read == 0


def test_a_body_under_the_limit_is_read(client):
    response = client.post("/api/v1/auth/token", json={"email": "x@example.com", "password": "y"})
    assert response.status_code == 401


def test_the_limit_follows_max_content_length(make_app, database_url, app, ctx):
    small = make_app(database_url, MAX_CONTENT_LENGTH=64).test_client()
    response = small.post(
        "/api/v1/auth/token", json={"email": "someone@example.com", "password": "x" * 100}
    )
    assert response.status_code == 413
    assert "64 bytes" in response.get_json()["error"]["message"]
