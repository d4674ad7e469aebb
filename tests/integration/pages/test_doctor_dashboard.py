"""The doctor's appointments page: day and week views, and acting on bookings."""

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Role, SlotMode
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user

S = AppointmentStatus


def _booking(doctor, start, *, status=S.CONFIRMED, name="Ana Lima", mode=SlotMode.IN_PERSON):
    slot = make_slot(doctor, start=start, minutes=30, mode=mode)
    return make_appointment(slot, make_user(Role.PATIENT, name=name), status=status)


def _status(appointment_id: int) -> AppointmentStatus:
    return db.session.get(Appointment, appointment_id).status


def test_day_view_shows_appointments_in_clinic_local_time(client, auth):
    doctor = make_doctor()  # a clinic in America/New_York
    _booking(doctor, datetime(2031, 6, 2, 14, 0, tzinfo=UTC), mode=SlotMode.VIDEO)
    _booking(doctor, datetime(2031, 6, 3, 14, 0, tzinfo=UTC), name="Ben Other Day")
    auth.login(doctor.user.email)

    page = client.get("/doctor/?view=day&date=2031-06-02").get_data(as_text=True)

    assert "Monday 02 June 2031" in page
    assert "10:00 EDT" in page and "to 10:30 EDT" in page
    assert "Ana Lima" in page and "Confirmed" in page and "Video" in page
    assert "Ben Other Day" not in page


def test_week_view_runs_monday_to_sunday_in_local_days(client, auth):
    doctor = make_doctor(clinic=make_clinic(timezone="Europe/London"))
    _booking(doctor, datetime(2031, 1, 6, 9, 0, tzinfo=UTC), name="Monday Patient")
    _booking(doctor, datetime(2031, 1, 12, 23, 30, tzinfo=UTC), name="Sunday Night")
    _booking(doctor, datetime(2031, 1, 13, 9, 0, tzinfo=UTC), name="Next Monday")
    auth.login(doctor.user.email)

    response = client.get("/doctor/?view=week&date=2031-01-08")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "06 Jan – 12 Jan 2031" in page
    assert page.count('data-testid="week-day"') == 7
    assert "Monday Patient" in page and "09:00 GMT" in page
    assert "Sunday Night" in page and "23:30 GMT" in page
    assert "Next Monday" not in page


def test_week_view_across_the_clock_change_keeps_wall_times(client, auth):
    doctor = make_doctor()
    _booking(doctor, datetime(2031, 3, 7, 14, 0, tzinfo=UTC), name="Before Change")
    _booking(doctor, datetime(2031, 3, 10, 13, 0, tzinfo=UTC), name="After Change")
    auth.login(doctor.user.email)

    page = client.get("/doctor/?view=week&date=2031-03-10").get_data(as_text=True)
    assert "After Change" in page and "09:00 EDT" in page
    page = client.get("/doctor/?view=week&date=2031-03-07").get_data(as_text=True)
    assert "Before Change" in page and "09:00 EST" in page


def test_pending_section_lists_bookings_awaiting_approval(client, auth):
    doctor = make_doctor(requires_approval=True)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    _booking(doctor, start, status=S.PENDING_APPROVAL, name="Waiting Wendy")
    auth.login(doctor.user.email)

    page = client.get("/doctor/").get_data(as_text=True)

    pending = page.split('data-testid="pending"')[1].split("</section>")[0]
    assert "Waiting Wendy" in pending and "Approve" in pending and "Reject" in pending


@pytest.mark.parametrize(
    ("action", "status", "shown"),
    [
        ("approve", S.CONFIRMED, "Approved: Ana Lima"),
        ("reject", S.REJECTED, "Rejected: Ana Lima"),
        ("cancel", S.CANCELLED, "Cancelled: Ana Lima"),
    ],
)
def test_doctor_decides_on_an_upcoming_booking(client, auth, action, status, shown):
    doctor = make_doctor(requires_approval=True)
    start = datetime(2031, 6, 2, 14, 0, tzinfo=UTC)
    appointment = _booking(doctor, start, status=S.PENDING_APPROVAL)
    auth.login(doctor.user.email)

    response = client.post(
        f"/doctor/appointments/{appointment.id}/{action}?view=day&date=2031-06-02",
        data={"reason": "Away that day"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/doctor/?view=day&date=2031-06-02"
    assert _status(appointment.id) is status
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert shown in page
    row = page.split(f'data-appointment-id="{appointment.id}"')[1].split("</li>")[0]
    assert status.value in row
    assert "refund" not in page.lower()


@pytest.mark.parametrize(("action", "status"), [("complete", S.COMPLETED), ("no_show", S.NO_SHOW)])
def test_doctor_records_the_outcome_after_the_start(client, auth, action, status):
    doctor = make_doctor()
    start = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    appointment = _booking(doctor, start)
    auth.login(doctor.user.email)
    page = client.get("/doctor/").get_data(as_text=True)
    assert "Mark completed" in page and "No-show" in page

    response = client.post(f"/doctor/appointments/{appointment.id}/{action}")

    assert response.status_code == 302
    assert _status(appointment.id) is status


def test_outcome_before_the_start_is_refused_with_a_message(client, auth):
    doctor = make_doctor()
    appointment = _booking(doctor, datetime(2031, 6, 2, 14, 0, tzinfo=UTC))
    auth.login(doctor.user.email)

    response = client.post(f"/doctor/appointments/{appointment.id}/complete", follow_redirects=True)

    assert response.status_code == 200
    assert "The outcome can be recorded once the visit has started." in response.get_data(
        as_text=True
    )
    assert _status(appointment.id) is S.CONFIRMED


@pytest.mark.parametrize(
    "path", ["/doctor/", "/doctor/slots", "/doctor/slots/new", "/doctor/slots/bulk"]
)
def test_patients_get_403_and_visitors_are_sent_to_sign_in(client, auth, path):
    assert client.get(path).status_code == 302
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    assert client.get(path).status_code == 403


def test_another_doctor_gets_403_and_changes_nothing(client, auth):
    owner = make_doctor()
    slot = make_slot(owner, start=datetime(2031, 6, 2, 14, 0, tzinfo=UTC))
    appointment = _booking(owner, datetime(2031, 6, 3, 14, 0, tzinfo=UTC))
    other = make_doctor()
    auth.login(other.user.email)

    assert client.get(f"/doctor/?doctor_id={owner.id}").status_code == 403
    assert client.get(f"/doctor/slots?doctor_id={owner.id}").status_code == 403
    assert client.get(f"/doctor/slots/{slot.id}/edit").status_code == 403
    assert client.post(f"/doctor/slots/{slot.id}/block").status_code == 403
    assert client.post(f"/doctor/slots/{slot.id}/delete").status_code == 403
    # Someone else's appointment is not even shown to exist.
    assert client.post(f"/doctor/appointments/{appointment.id}/cancel").status_code == 404
    assert _status(appointment.id) is S.CONFIRMED
    assert db.session.get(type(slot), slot.id).status.value == "open"


def test_admin_picks_a_doctor_then_sees_their_day(app, client, auth, monkeypatch):
    # Two-factor enrolment of admins is not what this test is about.
    monkeypatch.setitem(app.config, "ADMIN_2FA_REQUIRED", False)
    doctor = make_doctor(name="Dr. Chosen")
    _booking(doctor, datetime(2031, 6, 2, 14, 0, tzinfo=UTC))
    admin = make_user(Role.ADMIN)
    auth.login(admin.email)

    chooser = client.get("/doctor/").get_data(as_text=True)
    assert "Dr. Chosen" in chooser and f"/doctor/?doctor_id={doctor.id}" in chooser

    page = client.get(f"/doctor/?doctor_id={doctor.id}&date=2031-06-02").get_data(as_text=True)
    assert "Ana Lima" in page and "Managing" in page


@pytest.mark.parametrize(
    "query",
    ["?date=tomorrow", "?date=2031-02-30", "?date=0001-01-01", "?view=month", "?doctor_id=x"],
)
def test_bad_dashboard_queries_are_400(client, auth, query):
    doctor = make_doctor()
    auth.login(doctor.user.email)
    assert client.get(f"/doctor/{query}").status_code == 400


def test_unknown_action_is_404_and_get_is_405(client, auth):
    doctor = make_doctor()
    appointment = _booking(doctor, datetime(2031, 6, 2, 14, 0, tzinfo=UTC))
    auth.login(doctor.user.email)
    assert client.post(f"/doctor/appointments/{appointment.id}/explode").status_code == 404
    assert client.get(f"/doctor/appointments/{appointment.id}/approve").status_code == 405
    assert client.post("/doctor/appointments/999999/approve").status_code == 404
    assert client.post("/doctor/appointments/99999999999999999999/approve").status_code == 404


def test_requests_far_ahead_are_listed_for_approval_too(client, auth):
    doctor = make_doctor(requires_approval=True)
    auth.login(doctor.user.email)
    far = make_slot(doctor, start=datetime.now(UTC).replace(microsecond=0) + timedelta(days=90))
    make_appointment(
        far, make_user(Role.PATIENT, name="Far Ahead"), status=AppointmentStatus.PENDING_APPROVAL
    )
    assert "Far Ahead" in client.get("/doctor/").get_data(as_text=True)
