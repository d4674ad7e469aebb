"""Slots: the public listing, and publishing one slot (doctor, admin; nobody else)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Role, Slot, SlotStatus
from tests.factories import make_appointment, make_doctor, make_slot, make_user
from tests.integration.api.helpers import assert_error, hours_ahead, iso

# 2031-01-15 is a Wednesday in winter: New York is UTC-5.
WINTER_DAY = "2031-01-15"


def _listed(client, doctor, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/doctors/{doctor.id}/slots?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_listing_shows_every_slot_in_the_next_two_weeks_and_which_can_be_booked(client):
    doctor = make_doctor()
    free = make_slot(doctor, start=hours_ahead(24))
    booked = make_slot(doctor, start=hours_ahead(48))
    make_appointment(booked)
    blocked = make_slot(doctor, start=hours_ahead(72), status=SlotStatus.BLOCKED)
    make_slot(doctor, start=hours_ahead(24 * 15))  # beyond the default fortnight
    make_slot(doctor, start=hours_ahead(-24))  # past

    assert _listed(client, doctor) == [
        {
            "id": free.id,
            "start": iso(free.start_at),
            "end": iso(free.end_at),
            "mode": "in_person",
            "status": "open",
            "available": True,
        },
        {
            "id": booked.id,
            "start": iso(booked.start_at),
            "end": iso(booked.end_at),
            "mode": "in_person",
            "status": "open",
            "available": False,
        },
        {
            "id": blocked.id,
            "start": iso(blocked.start_at),
            "end": iso(blocked.end_at),
            "mode": "in_person",
            "status": "blocked",
            "available": False,
        },
    ]
    assert [s["id"] for s in _listed(client, doctor, "available=true")] == [free.id]


def test_plain_dates_are_midnights_in_the_clinic_zone(client):
    doctor = make_doctor()  # New York
    late_evening_before = make_slot(doctor, start=datetime(2031, 1, 15, 4, 30, tzinfo=UTC))
    first_of_the_day = make_slot(doctor, start=datetime(2031, 1, 15, 5, 0, tzinfo=UTC))
    last_of_the_day = make_slot(doctor, start=datetime(2031, 1, 16, 4, 30, tzinfo=UTC))

    ids = [s["id"] for s in _listed(client, doctor, f"from={WINTER_DAY}&to=2031-01-16")]

    assert ids == [first_of_the_day.id, last_of_the_day.id]
    assert late_evening_before.id not in ids


def test_listing_takes_date_times_with_any_offset(client):
    doctor = make_doctor()
    slot = make_slot(doctor, start=datetime(2031, 1, 15, 14, 0, tzinfo=UTC))
    minus = "from=2031-01-15T09:00:00-05:00&to=2031-01-15T09:30:00-05:00"
    assert [s["id"] for s in _listed(client, doctor, minus)] == [slot.id]
    plus = "from=2031-01-15T15:00:00%2B01:00&to=2031-01-15T16:00:00%2B01:00"
    assert [s["id"] for s in _listed(client, doctor, plus)] == [slot.id]


@pytest.mark.parametrize(
    "query",
    [
        "from=2031-01-15T09:00:00",  # no offset
        "from=yesterday",
        "from=2031-02-30",
        "from=2031-01-20&to=2031-01-10",  # reversed
        "from=2031-01-10&to=2031-01-10",  # empty
        "from=2031-01-01&to=2031-07-20",  # 200 days
        "from=0001-01-01T00:00:00%2B01:00",
        "from=9999-12-31",
        "available=maybe",
    ],
)
def test_bad_listing_ranges_are_a_422_with_a_message(client, query):
    doctor = make_doctor()
    assert_error(client.get(f"/api/v1/doctors/{doctor.id}/slots?{query}"), 422)


def test_listing_of_an_unknown_doctor_is_a_404(client):
    assert_error(client.get("/api/v1/doctors/4242/slots"), 404)


def _slot_body(start: datetime, minutes: int = 30, **extra) -> dict:
    return {"start": iso(start), "end": iso(start + timedelta(minutes=minutes)), **extra}


def test_doctor_publishes_a_slot_of_their_own(client, bearer):
    doctor = make_doctor()
    start = hours_ahead(30)

    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots",
        json=_slot_body(start, mode="video"),
        headers=bearer(doctor.user),
    )

    assert response.status_code == 201
    slot = db.session.scalars(select(Slot)).one()
    assert response.get_json() == {
        "id": slot.id,
        "start": iso(start),
        "end": iso(start + timedelta(minutes=30)),
        "mode": "video",
        "status": "open",
    }
    assert (slot.doctor_id, slot.start_at) == (doctor.id, start)


def test_any_offset_names_the_same_instant(client, bearer):
    doctor = make_doctor()
    start = hours_ahead(30)
    kolkata = timezone(timedelta(hours=5, minutes=30))
    body = {
        "start": start.astimezone(kolkata).isoformat(),
        "end": iso(start + timedelta(hours=1)).replace("+00:00", "Z"),
    }
    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots", json=body, headers=bearer(doctor.user)
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["start"] == iso(start)
    assert response.get_json()["end"] == iso(start + timedelta(hours=1))


def test_admin_publishes_for_any_doctor(client, bearer):
    doctor = make_doctor()
    admin = make_user(Role.ADMIN)
    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots",
        json=_slot_body(hours_ahead(30)),
        headers=bearer(admin),
    )
    assert response.status_code == 201


def test_patients_and_other_doctors_cannot_publish_slots(client, bearer):
    doctor = make_doctor()
    body = _slot_body(hours_ahead(30))
    url = f"/api/v1/doctors/{doctor.id}/slots"

    assert_error(client.post(url, json=body, headers=bearer(make_user(Role.PATIENT))), 403)
    assert_error(client.post(url, json=body, headers=bearer(make_doctor().user)), 403)
    assert_error(client.post(url, json=body), 401)
    assert db.session.scalar(select(func.count(Slot.id))) == 0


def test_overlapping_slot_is_a_409(client, bearer):
    doctor = make_doctor()
    existing = make_slot(doctor, start=hours_ahead(30), minutes=60)

    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots",
        json=_slot_body(existing.start_at + timedelta(minutes=30)),
        headers=bearer(doctor.user),
    )

    assert_error(response, 409, "slot_overlap")


@pytest.mark.parametrize(
    "body",
    [
        {"start": "2031-01-15T09:00:00", "end": "2031-01-15T09:30:00"},  # naive
        {"start": "2031-01-15T09:30:00+00:00", "end": "2031-01-15T09:00:00+00:00"},
        {"start": "2020-01-15T09:00:00+00:00", "end": "2020-01-15T09:30:00+00:00"},  # past
        {"start": "2031-01-15T09:00:00+00:00", "end": "2031-01-16T09:00:00+00:00"},  # 24 h
        {"start": "2099-01-15T09:00:00+00:00", "end": "2099-01-15T09:30:00+00:00"},  # far
        {"start": "soon", "end": "later"},
        {"start": 5, "end": True},
        {"start": "2031-01-15T09:00:00+00:00"},
        {"start": "2031-01-15T09:00:00+00:00", "end": "2031-01-15T09:30:00+00:00", "mode": "x"},
        {"start": "2031-01-15T09:00:00+00:00", "end": "2031-01-15T09:30:00+00:00", "room": 1},
        [],
        "text",
    ],
)
def test_bad_slot_input_is_a_422_with_a_message(client, bearer, body):
    doctor = make_doctor()
    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots", json=body, headers=bearer(doctor.user)
    )
    assert_error(response, 422)


def test_naive_times_are_told_to_include_an_offset(client, bearer):
    doctor = make_doctor()
    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots",
        json={"start": "2031-01-15T09:00:00", "end": "2031-01-15T09:30:00+00:00"},
        headers=bearer(doctor.user),
    )
    error = assert_error(response, 422)
    assert "offset" in error["details"]["json"]["start"][0]


def test_publishing_for_an_unknown_doctor_is_a_404(client, bearer):
    admin = make_user(Role.ADMIN)
    response = client.post(
        "/api/v1/doctors/4242/slots", json=_slot_body(hours_ahead(30)), headers=bearer(admin)
    )
    assert_error(response, 404, "doctor_not_found")


def test_bodies_that_are_not_json_are_refused_cleanly(client, bearer):
    doctor = make_doctor()
    url = f"/api/v1/doctors/{doctor.id}/slots"
    headers = bearer(doctor.user)

    assert_error(client.post(url, data="start=x", headers=headers), 415)
    assert_error(
        client.post(url, data="{not json", headers=headers, content_type="application/json"), 400
    )
    assert_error(client.post(url, headers=headers), 422)  # no body at all
