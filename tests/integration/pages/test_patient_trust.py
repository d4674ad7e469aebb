"""Issue 17: the clinic's change policy before a patient commits, the waitlist only where it
can help, the search's day carried to the doctor page, and a styled, complete confirmation."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Role, SlotMode
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user

NEW_YORK = ZoneInfo("America/New_York")


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK).astimezone(UTC)


def _day(days: int) -> date:
    return datetime.now(NEW_YORK).date() + timedelta(days=days)


@pytest.fixture
def patient(auth):
    user = make_user(Role.PATIENT, name="Ana Lima")
    auth.login(user.email)
    return user


@pytest.fixture
def doctor(ctx):
    clinic = make_clinic(
        name="Harbor Health", address="120 Water Street", cancellation_window_hours=24
    )
    return make_doctor(clinic=clinic, name="Dr. Maya Chen")


def _soon(doctor):
    return make_slot(doctor, start=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3))


def test_book_page_states_the_policy_and_a_window_slot_needs_the_checkbox(client, patient, doctor):
    later = make_slot(doctor, start=_at(_day(5), 10))
    page = client.get(f"/book/{later.id}").get_data(as_text=True)
    assert "Online changes close 24 hours before the visit" in page
    assert 'name="acknowledge_policy"' not in page

    soon = _soon(doctor)
    page = client.get(f"/book/{soon.id}").get_data(as_text=True)
    assert "inside the clinic&#39;s no-change window" in page
    assert 'name="acknowledge_policy"' in page

    refused = client.post(f"/book/{soon.id}", data={"payment_method": "cash"})
    assert refused.status_code == 422
    assert "Please confirm that you accept this" in refused.get_data(as_text=True)
    assert db.session.scalars(select(Appointment)).all() == []

    booked = client.post(
        f"/book/{soon.id}", data={"payment_method": "cash", "acknowledge_policy": "y"}
    )
    assert booked.status_code == 302
    [appointment] = db.session.scalars(select(Appointment)).all()
    assert appointment.status is AppointmentStatus.CONFIRMED


def test_doctor_page_marks_the_slots_inside_the_window(client, doctor):
    soon, later = _soon(doctor), make_slot(doctor, start=_at(_day(5), 10))
    page = client.get(f"/doctors/{doctor.id}").get_data(as_text=True)
    assert f'data-testid="changes-closed-{soon.id}"' in page
    assert f'data-testid="changes-closed-{later.id}"' not in page


def test_reschedule_is_a_week_picker_that_marks_and_guards_window_slots(client, patient, doctor):
    current = make_appointment(make_slot(doctor, start=_at(_day(5), 10)), patient)
    soon = _soon(doctor)
    far = make_slot(doctor, start=_at(_day(20), 10))
    url = f"/appointments/{current.id}/reschedule"

    page = client.get(url).get_data(as_text=True)
    assert page.count('class="day"') == 7  # one week, day by day
    assert f'value="{soon.id}"' in page and f'value="{far.id}"' not in page
    assert f'data-testid="changes-closed-{soon.id}"' in page
    assert "Online changes close 24 hours" in page and 'name="acknowledge_policy"' in page
    later = client.get(f"{url}?week={_day(18).isoformat()}").get_data(as_text=True)
    assert f'value="{far.id}"' in later and 'rel="prev"' in later

    refused = client.post(url, data={"slot_id": soon.id})
    assert refused.status_code == 422
    moved = client.post(url, data={"slot_id": soon.id, "acknowledge_policy": "y"})
    assert moved.status_code == 302


def test_waitlist_is_offered_only_on_days_whose_times_are_all_taken(client, patient, doctor):
    full, empty, free = _day(2), _day(3), _day(4)
    make_appointment(make_slot(doctor, start=_at(full, 10)))
    make_slot(doctor, start=_at(free, 10))
    page = client.get(f"/doctors/{doctor.id}?week={full.isoformat()}").get_data(as_text=True)
    assert f"Join the waitlist for {full:%a %d %b}" in page
    assert f"Join the waitlist for {empty:%a %d %b}" not in page  # no times there at all
    assert f"Join the waitlist for {free:%a %d %b}" not in page


def test_search_with_a_day_shows_that_days_first_time_and_links_to_it(client, doctor):
    make_slot(doctor, start=_at(_day(2), 9))
    make_slot(doctor, start=_at(_day(4), 14))
    day = _day(4)
    page = client.get(f"/doctors?available_on={day.isoformat()}").get_data(as_text=True)
    assert f"{day:%a %d %b %Y}, 14:00" in page
    assert f"/doctors/{doctor.id}?week={day.isoformat()}" in page


def test_home_search_has_a_date_field(client):
    page = client.get("/").get_data(as_text=True)
    assert 'name="available_on" type="date"' in page


def test_confirmation_is_styled_with_the_address_visit_type_and_calendar_link(
    client, patient, doctor
):
    slot = make_slot(doctor, start=_at(_day(5), 10), mode=SlotMode.VIDEO)
    appointment = make_appointment(slot, patient)
    page = client.get(f"/checkout/{appointment.id}/done").get_data(as_text=True)
    assert "css/patient.css" in page
    assert "120 Water Street" in page and "Video call" in page
    assert f"/appointments/{appointment.id}.ics" in page


def test_a_visit_booked_inside_the_window_does_not_claim_changes_closed_before_it(
    client, patient, doctor
):
    soon = _soon(doctor)
    client.post(f"/book/{soon.id}", data={"payment_method": "cash", "acknowledge_policy": "y"})
    [appointment] = db.session.scalars(select(Appointment)).all()
    page = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    assert "Booked inside the clinic's 24-hour no-change window." in page
    assert "No online changes: to cancel or move this visit" in page
    assert "Online changes closed at" not in page
