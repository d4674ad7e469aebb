"""The interactive API documentation (/api/v1/docs): Swagger UI served from this host only,
listing every operation of the OpenAPI document, with "Authorize" taking a bearer token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect

from app.models import Role
from app.services.accounts.tokens import issue_token
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_user

pytestmark = pytest.mark.e2e

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _operation_count(live_server: str) -> int:
    with urlopen(f"{live_server}/api/v1/openapi.json", timeout=10) as response:
        spec = json.load(response)
    return sum(1 for ops in spec["paths"].values() for method in ops if method in HTTP_METHODS)


def test_docs_page_lists_every_operation_without_leaving_the_host(page, live_server):
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    expected = _operation_count(live_server)
    assert expected > 20

    page.goto("/api/v1/docs")

    expect(page.locator(".opblock")).to_have_count(expected)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert requests, "the page made no requests"
    assert {_origin(url) for url in requests} == {_origin(live_server)}, requests
    assert any(url.endswith("/api/v1/openapi.json") for url in requests)
    # A Content-Security-Policy refusal shows up as a console error.
    assert problems == []


def test_authorize_sends_the_bearer_token_with_try_it_out(page, live_server):
    user = make_user(Role.PATIENT, email="docs-reader@example.com")
    token = issue_token(user, secret_key=TEST_SECRET_KEY, ttl_seconds=600, now=datetime.now(UTC))
    page.goto("/api/v1/docs")

    page.locator("button.authorize").first.click()
    dialog = page.locator(".dialog-ux")
    dialog.locator("input").fill(token)
    dialog.locator("button.modal-btn.authorize").click()
    expect(dialog.get_by_role("heading", name="Authorized")).to_be_visible()
    dialog.locator("button.close-modal").click()

    operation = page.locator(".opblock-get").filter(
        has=page.locator(".opblock-summary-path[data-path='/api/v1/me']")
    )
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/me")) as answer:
        operation.get_by_role("button", name="Execute").click()
    assert answer.value.status == 200
    assert answer.value.request.headers["authorization"] == f"Bearer {token}"
    expect(operation.locator(".live-responses-table")).to_contain_text("docs-reader@example.com")
