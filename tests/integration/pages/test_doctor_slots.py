"""The doctor's availability page: one slot at a time (add, edit, block, delete)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AppointmentStatus, Role, Slot, SlotMode, SlotStatus
from tests.factories import make_appointment, make_doctor, make_slot, make_user

NEW_YORK = ZoneInfo("America/New_York")
# A Monday a few weeks ahead (slots are published at most two years ahead).
MONDAY = date.today() + timedelta(weeks=5) - timedelta(days=date.today().weekday())
WEEK = MONDAY.isoformat()
NINE = datetime.combine(MONDAY, time(9), tzinfo=NEW_YORK)
START = NINE.astimezone(UTC)  # 09:00 in New York on MONDAY
ZONE = NINE.tzname()  # EST or EDT
TUESDAY = (MONDAY + timedelta(days=1)).isoformat()


def _slot_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Slot))


@pytest.fixture
def doctor(auth):
    doctor = make_doctor()  # clinic in America/New_York
    auth.login(doctor.user.email)
    return doctor


def _add(client, **fields):
    data = {"date": WEEK, "start": "09:00", "end": "09:30", "mode": "video", **fields}
    return client.post("/doctor/slots/new", data=data)


def test_add_a_slot_in_local_time_and_see_it_on_the_week(client, doctor):
    response = _add(client)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/doctor/slots?week={WEEK}"
    slot = db.session.scalars(select(Slot)).one()
    assert (slot.start_at, slot.end_at) == (START, START + timedelta(minutes=30))
    assert slot.mode is SlotMode.VIDEO
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Slot saved: {MONDAY:%a %d %b %Y}, 09:00 {ZONE}." in page
    assert f"09:00–09:30 <small>{ZONE}</small>" in page and "Video" in page and ">open<" in page


def test_add_form_prefills_the_date(client, doctor):
    page = client.get("/doctor/slots/new?date=2031-06-04").get_data(as_text=True)
    assert 'value="2031-06-04"' in page


def test_an_overlapping_slot_is_refused_with_409(client, doctor):
    make_slot(doctor, start=START, minutes=30)

    response = _add(client, start="09:15", end="09:45")

    assert response.status_code == 409
    assert "That time overlaps another slot of this doctor." in response.get_data(as_text=True)
    assert _slot_count() == 1


def test_a_time_inside_the_spring_forward_gap_is_refused(client, doctor):
    # 02:00-03:00 on the second Sunday of March does not exist in New York.
    response = _add(client, date="2031-03-09", start="02:30", end="03:30")

    assert response.status_code == 422
    assert "This time does not exist on that day" in response.get_data(as_text=True)
    assert _slot_count() == 0


def test_a_slot_in_the_past_is_refused_on_the_field(client, doctor):
    response = _add(client, date="2020-01-06")
    assert response.status_code == 422
    assert "Slots can only be added in the future." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"date": "next monday"}, "Not a valid date value."),
        ({"date": "0001-01-01"}, "Enter a date between 2000 and 2100."),
        ({"start": "25:00"}, "Not a valid time value."),
        ({"end": ""}, "This field is required."),
        ({"mode": "teleport"}, "Not a valid choice"),
        ({"end": "08:00"}, "The end must be after the start."),
    ],
)
def test_bad_slot_input_is_a_form_error(client, doctor, fields, message):
    response = _add(client, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _slot_count() == 0


def test_edit_moves_an_open_slot(client, doctor):
    slot = make_slot(doctor, start=START, minutes=30)
    form = client.get(f"/doctor/slots/{slot.id}/edit").get_data(as_text=True)
    assert f'value="{WEEK}"' in form and 'value="09:00"' in form and 'value="09:30"' in form

    response = client.post(
        f"/doctor/slots/{slot.id}/edit",
        data={"date": TUESDAY, "start": "10:00", "end": "10:45", "mode": "in_person"},
    )

    assert response.status_code == 302
    db.session.refresh(slot)
    assert slot.start_at == START + timedelta(days=1, hours=1)
    assert slot.end_at == START + timedelta(days=1, hours=1, minutes=45)
    page = client.get(f"/doctor/slots?week={WEEK}").get_data(as_text=True)
    assert f"10:00–10:45 <small>{ZONE}</small>" in page and "09:00–" not in page


def test_a_booked_slot_cannot_be_moved(client, doctor):
    slot = make_slot(doctor, start=START, minutes=30)
    make_appointment(slot)

    response = client.post(
        f"/doctor/slots/{slot.id}/edit",
        data={"date": WEEK, "start": "11:00", "end": "11:30", "mode": "in_person"},
    )

    assert response.status_code == 409
    assert "This slot is booked: it cannot be moved." in response.get_data(as_text=True)
    db.session.refresh(slot)
    assert slot.start_at == START


def test_a_booked_slot_keeps_its_mode(client, doctor):
    slot = make_slot(doctor, start=START, minutes=30, mode=SlotMode.IN_PERSON)
    make_appointment(slot)

    response = client.post(
        f"/doctor/slots/{slot.id}/edit",
        data={"date": WEEK, "start": "09:00", "end": "09:30", "mode": "video"},
    )

    assert response.status_code == 409
    assert "its mode (in person or video) cannot be changed" in response.get_data(as_text=True)
    db.session.refresh(slot)
    assert slot.mode is SlotMode.IN_PERSON


def test_a_booked_slot_shows_booked_and_cannot_be_deleted(client, doctor):
    slot = make_slot(doctor, start=START, minutes=30)
    make_appointment(slot)
    page = client.get(f"/doctor/slots?week={WEEK}").get_data(as_text=True)
    assert ">booked<" in page

    response = client.post(f"/doctor/slots/{slot.id}/delete?week={WEEK}")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/doctor/slots?week={WEEK}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This slot is booked: it cannot be deleted." in page
    assert _slot_count() == 1


def test_the_week_shows_who_holds_each_slot(client, doctor):
    booked = make_slot(doctor, start=START, minutes=30)
    held = make_slot(doctor, start=START + timedelta(hours=1), minutes=30)
    make_appointment(booked, make_user(Role.PATIENT, name="Ada Byron"))
    make_appointment(
        held, make_user(Role.PATIENT, name="Alan Turing"), status=AppointmentStatus.PENDING_PAYMENT
    )
    page = client.get(f"/doctor/slots?week={WEEK}").get_data(as_text=True)
    assert ">booked<" in page and "Ada Byron" in page
    assert ">held<" in page and "Alan Turing · awaiting payment" in page


def test_a_slot_with_history_cannot_be_deleted(client, doctor):
    slot = make_slot(doctor, start=START, minutes=30)
    make_appointment(slot, status=AppointmentStatus.CANCELLED)

    response = client.post(f"/doctor/slots/{slot.id}/delete", follow_redirects=True)

    assert "past appointments on record: block it instead" in response.get_data(as_text=True)
    assert _slot_count() == 1


def test_delete_removes_a_free_slot(client, doctor):
    slot = make_slot(doctor, start=START, minutes=30)

    response = client.post(f"/doctor/slots/{slot.id}/delete?week={WEEK}", follow_redirects=True)

    assert "Slot deleted." in response.get_data(as_text=True)
    assert _slot_count() == 0


def test_block_then_unblock(client, doctor):
    slot = make_slot(doctor, start=START, minutes=30)

    client.post(f"/doctor/slots/{slot.id}/block?week={WEEK}")
    db.session.refresh(slot)
    assert slot.status is SlotStatus.BLOCKED
    page = client.get(f"/doctor/slots?week={WEEK}").get_data(as_text=True)
    assert ">blocked<" in page and "Unblock" in page

    client.post(f"/doctor/slots/{slot.id}/unblock?week={WEEK}")
    db.session.refresh(slot)
    assert slot.status is SlotStatus.OPEN


@pytest.mark.parametrize("week", ["soon", "2031-13-01", "9999-12-31"])
def test_bad_week_is_400(client, doctor, week):
    assert client.get(f"/doctor/slots?week={week}").status_code == 400


@pytest.mark.parametrize("slot_id", ["999999", "99999999999999999999"])
def test_unknown_slot_is_404(client, doctor, slot_id):
    assert client.get(f"/doctor/slots/{slot_id}/edit").status_code == 404
    assert client.post(f"/doctor/slots/{slot_id}/block").status_code == 404
    assert client.post(f"/doctor/slots/{slot_id}/delete").status_code == 404
