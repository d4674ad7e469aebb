"""A doctor's public page: profile, a week of free slots in the clinic's zone, the waitlist."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Role, SlotMode, SlotStatus, WaitlistEntry
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user

NEW_YORK = ZoneInfo("America/New_York")


def _local_day(days: int) -> date:
    return datetime.now(NEW_YORK).date() + timedelta(days=days)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


def test_doctor_page_is_public_and_shows_the_profile(client):
    clinic = make_clinic(name="Harbor Health", address="120 Water Street", phone="+12125550100")
    doctor = make_doctor(clinic=clinic, name="Dr. Maya Chen", fee_amount=9000, bio="Family GP.")

    response = client.get(f"/doctors/{doctor.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Dr. Maya Chen", "Harbor Health", "120 Water Street", "USD 90.00", "Family GP."):
        assert text in page
    assert "not yet rated" in page


def test_free_slots_are_grouped_by_local_day_with_booking_links(client):
    doctor = make_doctor()
    day = _local_day(2)
    free = make_slot(doctor, start=_at(day, 9))
    video = make_slot(doctor, start=_at(day, 10), mode=SlotMode.VIDEO)
    booked = make_slot(doctor, start=_at(day, 11))
    make_appointment(booked)
    blocked = make_slot(doctor, start=_at(day, 12), status=SlotStatus.BLOCKED)

    page = client.get(f"/doctors/{doctor.id}?week={day.isoformat()}").get_data(as_text=True)
    assert f'href="/book/{free.id}"' in page
    assert f'href="/book/{video.id}"' in page
    assert f'href="/book/{booked.id}"' not in page
    assert f'href="/book/{blocked.id}"' not in page
    assert f"{day:%a %d %b}" in page
    video_link = page[page.index(f'href="/book/{video.id}"') :].split("</a>")[0]
    assert "Video" in video_link
    assert "Video" not in page[page.index(f'href="/book/{free.id}"') :].split("</a>")[0]


def test_week_navigation_moves_seven_days_and_never_into_the_past(client):
    doctor = make_doctor()
    today = _local_day(0)
    later = _local_day(9)
    slot = make_slot(doctor, start=_at(later, 9))

    this_week = client.get(f"/doctors/{doctor.id}").get_data(as_text=True)
    assert f'href="/book/{slot.id}"' not in this_week
    next_week = (today + timedelta(days=7)).isoformat()
    assert f"week={next_week}" in this_week
    assert 'rel="prev"' not in this_week

    following = client.get(f"/doctors/{doctor.id}?week={next_week}").get_data(as_text=True)
    assert f'href="/book/{slot.id}"' in following
    assert f"week={today.isoformat()}" in following  # back to this week

    past = client.get(f"/doctors/{doctor.id}?week=2000-01-03")
    assert past.status_code == 200
    assert f"{today:%a %d %b}" in past.get_data(as_text=True)


def test_times_stay_at_nine_local_across_the_dst_change(client):
    clinic = make_clinic(timezone="America/New_York")
    doctor = make_doctor(clinic=clinic)
    before = make_slot(doctor, start=datetime(2031, 3, 7, 14, 0, tzinfo=UTC))  # EST, UTC-5
    after = make_slot(doctor, start=datetime(2031, 3, 10, 13, 0, tzinfo=UTC))  # EDT, UTC-4

    page = client.get(f"/doctors/{doctor.id}?week=2031-03-07").get_data(as_text=True)
    friday = page[page.index('data-testid="day-2031-03-07"') :].split("</article>")[0]
    monday = page[page.index('data-testid="day-2031-03-10"') :].split("</article>")[0]
    assert f'href="/book/{before.id}"' in friday and "09:00 EST" in friday
    assert f'href="/book/{after.id}"' in monday and "09:00 EDT" in monday


@pytest.mark.parametrize("path", ["/doctors/999999", "/doctors/abc"])
def test_unknown_doctor_is_a_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404


def test_deactivated_doctor_is_not_shown(client):
    doctor = make_doctor()
    doctor.user.is_active = False
    db.session.commit()
    assert client.get(f"/doctors/{doctor.id}").status_code == 404


@pytest.mark.parametrize("week", ["abc", "2031-02-30", "9999-12-30"])
def test_bad_week_is_a_422_not_a_crash(client, week):
    doctor = make_doctor()
    assert client.get(f"/doctors/{doctor.id}?week={week}").status_code == 422


def test_patient_joins_the_waitlist_of_a_day_without_free_slots(client, auth):
    doctor = make_doctor()
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    day = _local_day(3)
    make_appointment(make_slot(doctor, start=_at(day, 10)))  # the day's only time is taken

    page = client.get(f"/doctors/{doctor.id}?week={day.isoformat()}").get_data(as_text=True)
    assert f"Join the waitlist for {day:%a %d %b}" in page

    response = client.post(f"/doctors/{doctor.id}/waitlist", data={"day": day.isoformat()})
    assert response.status_code == 302
    again = client.post(f"/doctors/{doctor.id}/waitlist", data={"day": day.isoformat()})
    assert again.status_code == 302
    entries = db.session.scalars(select(WaitlistEntry)).all()
    assert [(e.patient_id, e.doctor_id, e.day) for e in entries] == [(patient.id, doctor.id, day)]
    assert "You are on the waitlist" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_waitlist_refuses_a_past_day_and_bad_input(client, auth):
    doctor = make_doctor()
    auth.login(make_user(Role.PATIENT).email)
    past = client.post(f"/doctors/{doctor.id}/waitlist", data={"day": "2020-01-01"})
    assert past.status_code == 302
    assert "That day has passed." in client.get(past.headers["Location"]).get_data(as_text=True)
    assert client.post(f"/doctors/{doctor.id}/waitlist", data={"day": "soon"}).status_code == 422
    assert client.post(f"/doctors/{doctor.id}/waitlist", data={}).status_code == 422
    missing = client.post("/doctors/999999/waitlist", data={"day": _local_day(3).isoformat()})
    assert missing.status_code == 404
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0


def test_waitlist_needs_a_signed_in_patient(client, auth):
    doctor = make_doctor()
    make_appointment(make_slot(doctor, start=_at(_local_day(3), 10)))
    day = _local_day(3).isoformat()
    anonymous = client.post(f"/doctors/{doctor.id}/waitlist", data={"day": day})
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]
    page = client.get(f"/doctors/{doctor.id}").get_data(as_text=True)
    assert "to join the waitlist" in page and "Join the waitlist for" not in page

    auth.login(make_user(Role.DOCTOR).email)
    assert client.post(f"/doctors/{doctor.id}/waitlist", data={"day": day}).status_code == 403
