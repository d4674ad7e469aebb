"""Weekly patterns, editing, blocking and deleting slots."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AppointmentStatus, Role, Slot, SlotMode, SlotStatus
from tests.factories import make_appointment, make_doctor, make_slot, make_user
from tests.integration.api.helpers import assert_error, hours_ahead, iso

NEW_YORK = ZoneInfo("America/New_York")


def _next_monday() -> date:
    day = date.today() + timedelta(days=7)
    return day + timedelta(days=-day.weekday() % 7)


def _new_york(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK)


def _pattern(monday: date, **changes) -> dict:
    body = {
        "weekdays": ["mon", 2],
        "start_date": monday.isoformat(),
        "end_date": (monday + timedelta(days=6)).isoformat(),
        "day_start": "09:00",
        "day_end": "12:00",
        "slot_minutes": 60,
        "breaks": [{"start": "10:00", "end": "11:00"}],
        "skip_dates": [(monday + timedelta(days=2)).isoformat()],
        "mode": "video",
    }
    body.update(changes)
    return body


def _slot_starts() -> list[datetime]:
    return list(db.session.scalars(select(Slot.start_at).order_by(Slot.start_at)))


def test_preview_shows_the_planned_slots_and_writes_nothing(client, bearer):
    doctor = make_doctor()
    monday = _next_monday()

    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots/bulk",
        json=_pattern(monday, preview=True),
        headers=bearer(doctor.user),
    )

    assert response.status_code == 200
    assert response.get_json() == {
        "created": 0,
        "skipped": [{"start": (monday + timedelta(days=2)).isoformat(), "reason": "date excluded"}],
        "slots": [
            {
                "start": iso(_new_york(monday, hour)),
                "end": iso(_new_york(monday, hour + 1)),
                "local_start": _new_york(monday, hour).isoformat(),
            }
            for hour in (9, 11)
        ],
    }
    assert _slot_starts() == []


def test_weekly_pattern_creates_clinic_local_slots_around_breaks(client, bearer):
    doctor = make_doctor()
    monday = _next_monday()

    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots/bulk",
        json=_pattern(monday),
        headers=bearer(doctor.user),
    )

    assert response.status_code == 201
    assert response.get_json()["created"] == 2
    assert len(response.get_json()["slots"]) == 2
    assert _slot_starts() == [_new_york(monday, 9), _new_york(monday, 11)]
    assert {s.mode for s in db.session.scalars(select(Slot))} == {SlotMode.VIDEO}


def test_repeating_a_pattern_skips_the_slots_that_exist(client, bearer):
    doctor = make_doctor()
    monday = _next_monday()
    url = f"/api/v1/doctors/{doctor.id}/slots/bulk"
    client.post(url, json=_pattern(monday, skip_dates=[]), headers=bearer(doctor.user))

    again = client.post(url, json=_pattern(monday, skip_dates=[]), headers=bearer(doctor.user))

    assert again.status_code == 201
    body = again.get_json()
    assert body["created"] == 0
    assert body["slots"] == []
    assert {s["reason"] for s in body["skipped"]} == {"overlaps an existing slot"}
    assert body["skipped"][0]["start"] == _new_york(monday, 9).isoformat()
    assert len(_slot_starts()) == 4


def test_only_the_doctor_or_an_admin_applies_a_pattern(client, bearer):
    doctor = make_doctor()
    url = f"/api/v1/doctors/{doctor.id}/slots/bulk"
    body = _pattern(_next_monday())

    assert_error(client.post(url, json=body, headers=bearer(make_user(Role.PATIENT))), 403)
    assert_error(client.post(url, json=body, headers=bearer(make_doctor().user)), 403)
    assert client.post(url, json=body, headers=bearer(make_user(Role.ADMIN))).status_code == 201


@pytest.mark.parametrize(
    "changes",
    [
        {"weekdays": []},
        {"weekdays": [7]},
        {"weekdays": ["funday"]},
        {"weekdays": [True]},
        {"weekdays": "mon"},
        {"day_start": "13:00"},
        {"day_start": "09:00+01:00"},
        {"day_start": "25:00"},
        {"slot_minutes": 0},
        {"slot_minutes": "30"},
        {"slot_minutes": 10**9},
        {"end_date": "2000-01-01"},
        {"end_date": "9999-12-31"},
        {"start_date": "2031-02-30"},
        {"breaks": [{"start": "11:00", "end": "10:00"}]},
        {"breaks": [{"start": "11:00"}]},
        {"skip_dates": ["someday"]},
        {"mode": "telepathy"},
        {"preview": "perhaps"},
        {"colour": "blue"},
    ],
)
def test_bad_patterns_are_a_422_with_a_message(client, bearer, changes):
    doctor = make_doctor()
    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots/bulk",
        json=_pattern(_next_monday(), **changes),
        headers=bearer(doctor.user),
    )
    assert_error(response, 422)
    assert _slot_starts() == []


def test_a_pattern_over_two_hundred_days_is_refused(client, bearer):
    doctor = make_doctor()
    monday = _next_monday()
    response = client.post(
        f"/api/v1/doctors/{doctor.id}/slots/bulk",
        json=_pattern(monday, end_date=(monday + timedelta(days=200)).isoformat()),
        headers=bearer(doctor.user),
    )
    assert "92 days" in assert_error(response, 422, "invalid_input")["message"]


def test_doctor_moves_a_free_slot_and_changes_its_mode(client, bearer):
    slot = make_slot(start=hours_ahead(30))
    new_start = hours_ahead(40)

    response = client.patch(
        f"/api/v1/slots/{slot.id}",
        json={
            "start": iso(new_start),
            "end": iso(new_start + timedelta(minutes=45)),
            "mode": "video",
        },
        headers=bearer(slot.doctor.user),
    )

    assert response.status_code == 200
    assert response.get_json() == {
        "id": slot.id,
        "start": iso(new_start),
        "end": iso(new_start + timedelta(minutes=45)),
        "mode": "video",
        "status": "open",
    }
    db.session.refresh(slot)
    assert (slot.start_at, slot.mode) == (new_start, SlotMode.VIDEO)


def test_a_booked_slot_cannot_be_moved_or_deleted(client, bearer):
    slot = make_slot(start=hours_ahead(30))
    make_appointment(slot)
    headers = bearer(slot.doctor.user)
    later = hours_ahead(50)

    moved = client.patch(
        f"/api/v1/slots/{slot.id}",
        json={"start": iso(later), "end": iso(later + timedelta(minutes=30))},
        headers=headers,
    )
    deleted = client.delete(f"/api/v1/slots/{slot.id}", headers=headers)

    assert_error(moved, 409, "slot_booked")
    assert_error(deleted, 409, "slot_booked")
    assert db.session.get(Slot, slot.id).start_at == slot.start_at


def test_a_booked_slot_keeps_its_mode_but_a_free_one_changes(client, bearer):
    slot = make_slot(start=hours_ahead(30), mode=SlotMode.IN_PERSON)
    make_appointment(slot)
    headers = bearer(slot.doctor.user)

    switched = client.patch(f"/api/v1/slots/{slot.id}", json={"mode": "video"}, headers=headers)
    same = client.patch(f"/api/v1/slots/{slot.id}", json={"mode": "in_person"}, headers=headers)

    assert_error(switched, 409, "slot_booked")
    assert "mode" in switched.get_json()["error"]["message"]
    assert same.status_code == 200
    assert db.session.get(Slot, slot.id).mode is SlotMode.IN_PERSON


def test_moving_onto_another_slot_is_a_409(client, bearer):
    doctor = make_doctor()
    slot = make_slot(doctor, start=hours_ahead(30))
    other = make_slot(doctor, start=hours_ahead(40))
    response = client.patch(
        f"/api/v1/slots/{slot.id}",
        json={"start": iso(other.start_at), "end": iso(other.end_at)},
        headers=bearer(doctor.user),
    )
    assert_error(response, 409, "slot_overlap")


@pytest.mark.parametrize(
    "body",
    [
        {"start": "2031-01-15T09:00:00"},
        {"end": "2020-01-01T00:00:00+00:00"},
        {"mode": "hologram"},
        {"status": "blocked"},
    ],
)
def test_bad_slot_edits_are_a_422(client, bearer, body):
    slot = make_slot(start=hours_ahead(30))
    response = client.patch(f"/api/v1/slots/{slot.id}", json=body, headers=bearer(slot.doctor.user))
    assert_error(response, 422)


def test_blocking_stops_bookings_and_unblocking_reopens(client, bearer):
    slot = make_slot(start=hours_ahead(30))
    headers = bearer(slot.doctor.user)
    listing = f"/api/v1/doctors/{slot.doctor_id}/slots"

    blocked = client.post(f"/api/v1/slots/{slot.id}/block", headers=headers)
    assert blocked.status_code == 200
    assert blocked.get_json()["status"] == "blocked"
    assert client.get(listing).get_json()["items"][0]["available"] is False

    reopened = client.post(f"/api/v1/slots/{slot.id}/unblock", headers=headers)
    assert reopened.get_json()["status"] == "open"
    assert client.get(listing).get_json()["items"][0]["available"] is True
    assert db.session.get(Slot, slot.id).status is SlotStatus.OPEN


def test_deleting_a_free_slot_removes_it(client, bearer):
    slot = make_slot(start=hours_ahead(30))
    slot_id = slot.id
    response = client.delete(f"/api/v1/slots/{slot_id}", headers=bearer(slot.doctor.user))
    assert response.status_code == 204
    assert response.data == b""
    assert db.session.get(Slot, slot_id) is None


def test_a_slot_with_past_appointments_is_blocked_not_deleted(client, bearer):
    slot = make_slot(start=hours_ahead(30))
    make_appointment(slot, status=AppointmentStatus.CANCELLED)
    response = client.delete(f"/api/v1/slots/{slot.id}", headers=bearer(slot.doctor.user))
    assert_error(response, 409, "slot_has_history")


def test_only_the_slots_doctor_edits_blocks_or_deletes_it(client, bearer):
    slot = make_slot(start=hours_ahead(30))
    for headers in (bearer(make_doctor().user), bearer(make_user(Role.PATIENT))):
        assert_error(client.post(f"/api/v1/slots/{slot.id}/block", headers=headers), 403)
        assert_error(client.delete(f"/api/v1/slots/{slot.id}", headers=headers), 403)
        assert_error(
            client.patch(f"/api/v1/slots/{slot.id}", json={"mode": "video"}, headers=headers), 403
        )
    assert db.session.get(Slot, slot.id).status is SlotStatus.OPEN


def test_unknown_slots_are_a_404(client, bearer):
    admin = bearer(make_user(Role.ADMIN))
    assert_error(client.post("/api/v1/slots/4242/block", headers=admin), 404, "slot_not_found")
    assert_error(client.delete("/api/v1/slots/4242", headers=admin), 404, "slot_not_found")
    assert_error(client.patch("/api/v1/slots/4242", json={"mode": "video"}, headers=admin), 404)
