"""Malformed requests get a clean 4xx JSON error on every endpoint, never a 500."""

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
