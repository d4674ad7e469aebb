"""Malformed requests get a clean 4xx JSON error on every endpoint, never a 500."""

import re

import pytest

from app.models import Role
from tests.factories import make_appointment, make_slot, make_user
from tests.integration.api.helpers import assert_error, hours_ahead


@pytest.mark.parametrize("query", ["q=a%00b", "city=%00", "specialty=%00"])
def test_nul_characters_in_search_text_are_a_422(client, query):
    assert_error(client.get(f"/api/v1/doctors?{query}"), 422)


def test_nul_characters_in_bodies_are_a_422(client, bearer):
    patient = make_user(Role.PATIENT, email="pat@example.com")
    slot = make_slot(start=hours_ahead(72))
    booking = {"slot_id": slot.id, "payment_method": "cash", "notes": "a\x00b"}
    appointment = make_appointment(make_slot(start=hours_ahead(96)), patient)

    assert_error(client.post("/api/v1/appointments", json=booking, headers=bearer(patient)), 422)
    assert_error(
        client.post(
            f"/api/v1/appointments/{appointment.id}/cancel",
            json={"reason": "\x00"},
            headers=bearer(patient),
        ),
        422,
    )
    assert_error(
        client.post("/api/v1/auth/token", json={"email": "pat@example.com\x00", "password": "x"}),
        422,
    )


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("slot_id=1&payment_method=cash", "application/x-www-form-urlencoded", 415),
        ('{"slot_id": 1}', "text/plain", 415),
        ("{broken", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        ("null", "application/json", 422),
        ("[1, 2]", "application/json", 422),
        ("", "application/json", 422),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(client, bearer, data, content_type, status):
    response = client.post(
        "/api/v1/appointments",
        data=data,
        content_type=content_type,
        headers=bearer(make_user(Role.PATIENT)),
    )
    assert_error(response, status)


def test_action_endpoints_refuse_a_non_json_body(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(72)))
    response = client.post(
        f"/api/v1/appointments/{appointment.id}/cancel",
        data="please",
        content_type="text/plain",
        headers=bearer(appointment.patient),
    )
    assert_error(response, 415, "unsupported_media_type")
    assert appointment.status.value == "confirmed"


def test_unknown_paths_and_methods_are_json(client):
    assert_error(client.get("/api/v1/slots/abc"), 404)
    assert_error(client.put("/api/v1/appointments"), 405)


DEEP = "[" * 1000


def _body_endpoints(app) -> list[str]:
    """Every API path taking a body, with 1 for each id."""
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.methods & {"POST", "PATCH", "PUT"}:
            paths.append((rule.rule, sorted(rule.methods & {"POST", "PATCH", "PUT"})[0]))
    return [(re.sub(r"<[^>]+>", "1", rule), method) for rule, method in paths]


def test_json_nested_too_deeply_is_a_400_on_every_api_endpoint(app, client, bearer):
    headers = bearer(make_user(Role.PATIENT))
    endpoints = _body_endpoints(app)
    refused = set()
    for path, method in endpoints:
        response = client.open(
            path, method=method, data=DEEP, content_type="application/json", headers=headers
        )
        # Endpoints without a body schema never read it; none may fail.
        assert response.status_code < 500, (path, response.get_data(as_text=True))
        if response.status_code == 400:
            assert "not valid JSON" in assert_error(response, 400, "bad_request")["message"]
            refused.add(path)
    assert {
        "/api/v1/auth/token",
        "/api/v1/appointments",
        "/api/v1/appointments/1/cancel",
        "/api/v1/appointments/1/reschedule",
        "/api/v1/doctors/1/slots",
        "/api/v1/doctors/1/waitlist",
        "/api/v1/slots/1",
        "/api/v1/payments/1/refunds",
    } <= refused


def test_json_nested_too_deeply_is_a_400_with_the_rate_limits_on(make_app, database_url, app, ctx):
    limited = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    response = limited.test_client().post(
        "/api/v1/auth/token", data=DEEP, content_type="application/json"
    )
    assert_error(response, 400, "bad_request")
