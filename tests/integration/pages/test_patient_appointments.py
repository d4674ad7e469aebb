"""A patient's appointments: list, detail, cancel, reschedule, calendar file; and that reading
pages never changes anything."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Role, WaitlistEntry
from app.services.scheduling import booking
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user


def _in(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def patient(auth):
    user = make_user(Role.PATIENT)
    auth.login(user.email)
    return user


def test_list_shows_upcoming_and_past_with_their_actions(client, patient):
    doctor = make_doctor(name="Dr. Maya Chen", clinic=make_clinic(name="Harbor Health"))
    upcoming = make_appointment(make_slot(doctor, start=_in(72)), patient)
    past = make_appointment(
        make_slot(doctor, start=_in(-72)), patient, status=AppointmentStatus.COMPLETED
    )
    cancelled = make_appointment(
        make_slot(doctor, start=_in(96)), patient, status=AppointmentStatus.CANCELLED
    )
    make_appointment(make_slot(doctor, start=_in(120)))  # someone else's

    page = client.get("/appointments").get_data(as_text=True)
    upcoming_part, past_part = page.split("Past and cancelled")
    assert f"/appointments/{upcoming.id}/cancel" in upcoming_part
    assert f"/appointments/{upcoming.id}/reschedule" in upcoming_part
    assert f"/appointments/{upcoming.id}.ics" in upcoming_part
    assert "Confirmed" in upcoming_part and "Harbor Health" in upcoming_part
    assert f"/appointments/{past.id}" in past_part and "Completed" in past_part
    assert f"/appointments/{past.id}/cancel" not in page
    assert "Book again" in past_part
    assert f'href="/appointments/{cancelled.id}"' in past_part and "Cancelled" in past_part
    assert page.count('data-testid="appointment-') == 3


def test_detail_shows_the_policy_deadline_in_the_clinic_zone(client, patient):
    clinic = make_clinic(timezone="America/New_York", cancellation_window_hours=24)
    slot = make_slot(make_doctor(clinic=clinic), start=datetime(2031, 3, 10, 13, 0, tzinfo=UTC))
    appointment = make_appointment(slot, patient)

    page = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    assert "Mon 10 Mar 2031, 09:00 EDT" in page
    assert "Free online cancellation until Sun 09 Mar 2031, 09:00 EDT." in page
    assert "Cancel appointment" in page
    assert f'href="/appointments/{appointment.id}/reschedule"' in page


def test_past_appointment_offers_to_book_again(client, patient):
    doctor = make_doctor()
    appointment = make_appointment(
        make_slot(doctor, start=_in(-48)), patient, status=AppointmentStatus.COMPLETED
    )
    page = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    assert "Book again with this doctor" in page
    assert f'href="/doctors/{doctor.id}"' in page
    assert "Cancel appointment" not in page


def test_cancel_within_the_policy_window_frees_the_slot(client, patient):
    clinic = make_clinic(cancellation_window_hours=24)
    doctor = make_doctor(clinic=clinic, name="Dr. Maya Chen")
    slot = make_slot(doctor, start=_in(72))
    appointment = make_appointment(slot, patient)

    response = client.post(f"/appointments/{appointment.id}/cancel")
    assert response.status_code == 302
    db.session.refresh(appointment)
    assert appointment.status is AppointmentStatus.CANCELLED
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cancelled: Dr. Maya Chen" in page
    week = slot.start_at.astimezone(ZoneInfo(clinic.timezone)).date()
    doctor_page = client.get(f"/doctors/{doctor.id}?week={week}")
    assert f'href="/book/{slot.id}"' in doctor_page.get_data(as_text=True)


def test_cancel_outside_the_policy_window_is_refused(client, patient):
    clinic = make_clinic(cancellation_window_hours=24, phone="+12125550100")
    appointment = make_appointment(make_slot(make_doctor(clinic=clinic), start=_in(10)), patient)
    appointment.created_at = _in(-48)  # booked before its window opened
    db.session.commit()

    detail = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    assert "Online changes closed at" in detail and "+12125550100" in detail
    assert "Cancel appointment" not in detail

    response = client.post(f"/appointments/{appointment.id}/cancel")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Online cancellation closes 24 hours before the visit" in page
    db.session.refresh(appointment)
    assert appointment.status is AppointmentStatus.CONFIRMED


def test_cancelling_twice_says_it_cannot(client, patient):
    appointment = make_appointment(
        make_slot(make_doctor(), start=_in(72)), patient, status=AppointmentStatus.CANCELLED
    )
    response = client.post(f"/appointments/{appointment.id}/cancel")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Only upcoming appointments can be cancelled." in page


def test_reschedule_moves_to_the_new_slot_and_frees_the_old_one(client, patient, auth):
    doctor = make_doctor(name="Dr. Maya Chen")
    old_slot = make_slot(doctor, start=_in(72))
    new_slot = make_slot(doctor, start=_in(96))
    other_doctor_slot = make_slot(make_doctor(), start=_in(100))
    appointment = make_appointment(old_slot, patient)

    page = client.get(f"/appointments/{appointment.id}/reschedule").get_data(as_text=True)
    assert f'value="{new_slot.id}"' in page
    assert f'value="{old_slot.id}"' not in page
    assert f'value="{other_doctor_slot.id}"' not in page

    response = client.post(
        f"/appointments/{appointment.id}/reschedule", data={"slot_id": new_slot.id}
    )
    moved = db.session.scalar(select(Appointment).where(Appointment.slot_id == new_slot.id))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/appointments/{moved.id}"
    assert moved.status is AppointmentStatus.CONFIRMED
    assert moved.rescheduled_from_id == appointment.id
    db.session.refresh(appointment)
    assert appointment.status is AppointmentStatus.CANCELLED
    assert "Rescheduled: Dr. Maya Chen" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )

    auth.logout()  # the old time is bookable again, by anyone
    auth.login(make_user(Role.PATIENT).email)
    assert client.post(f"/book/{old_slot.id}", data={"payment_method": "cash"}).status_code == 302


@pytest.mark.parametrize(
    ("slot_id", "status", "message"),
    [
        ("abc", 422, "Not a valid integer value."),
        ("", 422, "Pick a new time."),
        ("999999", 404, "There is no such slot."),
        ("other-doctor", 422, "Pick another time with the same doctor."),
        ("taken", 409, "Sorry, that slot was just taken."),
    ],
)
def test_bad_reschedule_input_is_a_4xx_with_a_message(client, patient, slot_id, status, message):
    doctor = make_doctor()
    appointment = make_appointment(make_slot(doctor, start=_in(72)), patient)
    make_slot(doctor, start=_in(80))
    if slot_id == "other-doctor":
        slot_id = make_slot(make_doctor(), start=_in(90)).id
    elif slot_id == "taken":
        slot_id = make_appointment(make_slot(doctor, start=_in(90))).slot_id

    response = client.post(f"/appointments/{appointment.id}/reschedule", data={"slot_id": slot_id})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    db.session.refresh(appointment)
    assert appointment.status is AppointmentStatus.CONFIRMED


def test_ics_download_is_a_calendar_in_utc(client, patient):
    clinic = make_clinic(timezone="America/New_York")
    slot = make_slot(make_doctor(clinic=clinic), start=datetime(2031, 3, 10, 13, 0, tzinfo=UTC))
    appointment = make_appointment(slot, patient)

    response = client.get(f"/appointments/{appointment.id}.ics")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="carebook-appointment-{appointment.id}.ics"'
    )
    assert body.startswith("BEGIN:VCALENDAR")
    assert "DTSTART:20310310T130000Z" in body
    assert "DTEND:20310310T133000Z" in body


@pytest.mark.parametrize(
    "path",
    ["/appointments/{id}", "/appointments/{id}.ics", "/appointments/{id}/reschedule"],
)
def test_another_patients_appointment_is_a_404(client, patient, path):
    theirs = make_appointment(make_slot(make_doctor(), start=_in(72)))
    assert client.get(path.format(id=theirs.id)).status_code == 404


def test_another_patient_cannot_cancel_or_move_it(client, patient):
    doctor = make_doctor()
    theirs = make_appointment(make_slot(doctor, start=_in(72)))
    free = make_slot(doctor, start=_in(96))
    assert client.post(f"/appointments/{theirs.id}/cancel").status_code == 404
    moved = client.post(f"/appointments/{theirs.id}/reschedule", data={"slot_id": free.id})
    assert moved.status_code == 404
    db.session.refresh(theirs)
    assert theirs.status is AppointmentStatus.CONFIRMED


@pytest.mark.parametrize(
    "path", ["/appointments", "/appointments/1", "/appointments/1.ics", "/book/1"]
)
def test_patient_pages_need_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_doctors_get_403_on_patient_pages(client, auth):
    auth.login(make_user(Role.DOCTOR).email)
    assert client.get("/appointments").status_code == 403


def test_get_never_changes_state(client, patient):
    doctor = make_doctor()
    slot = make_slot(doctor, start=_in(72))
    free = make_slot(doctor, start=_in(96))
    appointment = make_appointment(slot, patient)

    def snapshot():
        db.session.expire_all()
        rows = db.session.execute(select(Appointment.id, Appointment.status)).all()
        return rows, db.session.scalar(select(func.count(WaitlistEntry.id)))

    before = snapshot()
    for path in (
        f"/book/{free.id}",
        f"/book/{free.id}?payment_method=cash",
        "/appointments",
        f"/appointments/{appointment.id}",
        f"/appointments/{appointment.id}.ics",
        f"/appointments/{appointment.id}/reschedule?slot_id={free.id}",
        f"/doctors/{doctor.id}",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/appointments/{appointment.id}/cancel").status_code == 405
    assert client.get(f"/doctors/{doctor.id}/waitlist?day=2031-01-01").status_code == 405
    assert snapshot() == before


def _ics(client, appointment) -> str:
    response = client.get(f"/appointments/{appointment.id}.ics")
    assert response.status_code == 200
    return response.get_data(as_text=True).replace("\r\n ", "")


def _book(patient, doctor, hours: float = 72):
    slot = make_slot(doctor, start=_in(hours))
    return booking.book_slot(
        patient_id=patient.id, slot_id=slot.id, payment_method="cash", notes=None, now=_in(0)
    )


def _field(body: str, name: str) -> str:
    return next(line.split(":", 1)[1] for line in body.splitlines() if line.startswith(name + ":"))


def test_ics_keeps_one_event_across_a_reschedule_and_cancels_it(client, patient):
    doctor = make_doctor(clinic=make_clinic(name="Harbor Health"))
    first = _book(patient, doctor)
    before = _ics(client, first)
    assert _field(before, "STATUS") == "CONFIRMED"
    assert _field(before, "METHOD") == "PUBLISH"
    assert _field(before, "SEQUENCE") == "0"
    assert "(confirmed)" not in _field(before, "DESCRIPTION")  # no internal status names
    assert "Confirmed." in _field(before, "DESCRIPTION")

    moved = booking.reschedule_appointment(
        appointment_id=first.id,
        new_slot_id=make_slot(doctor, start=_in(96)).id,
        actor_id=patient.id,
        now=datetime.now(UTC),
    )
    after = _ics(client, moved)
    assert _field(after, "UID") == _field(before, "UID")
    assert _field(after, "SEQUENCE") == "1"
    assert _field(after, "DTSTART") != _field(before, "DTSTART")
    old_link = _ics(client, first)  # the first appointment's link gives the visit as it is now
    for name in ("UID", "SEQUENCE", "DTSTART", "STATUS"):
        assert _field(old_link, name) == _field(after, name), name

    booking.cancel_appointment(appointment_id=moved.id, actor_id=patient.id, now=datetime.now(UTC))
    cancelled = _ics(client, moved)
    assert _field(cancelled, "METHOD") == "CANCEL"
    assert _field(cancelled, "STATUS") == "CANCELLED"
    assert _field(cancelled, "UID") == _field(before, "UID")
    assert _field(cancelled, "SEQUENCE") == "2"


def test_ics_of_a_pending_request_is_tentative_in_plain_words(client, patient):
    doctor = make_doctor(clinic=make_clinic(), requires_approval=True)
    request = _book(patient, doctor)
    body = _ics(client, request)
    assert _field(body, "STATUS") == "TENTATIVE"
    assert "(not confirmed yet)" in _field(body, "SUMMARY")
    assert "the doctor has not confirmed it yet" in _field(body, "DESCRIPTION")
    assert "pending_approval" not in body


def test_a_rejection_reason_keeps_the_doctors_capitals(client, patient):
    doctor = make_doctor(clinic=make_clinic(), requires_approval=True)
    request = _book(patient, doctor)
    booking.reject_appointment(
        appointment_id=request.id,
        actor_id=doctor.user_id,
        now=datetime.now(UTC),
        reason="please see Dr. Okafor at the MRI unit instead",
    )
    page = client.get(f"/appointments/{request.id}").get_data(as_text=True)
    assert "Please see Dr. Okafor at the MRI unit instead" in page
