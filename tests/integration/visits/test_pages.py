"""The room page /visits/<id>: open to the appointment's patient and doctor only, from 10
minutes before the start to 30 minutes after the end; a clear page before and after; 404
for anyone else and for in-person or unconfirmed appointments. The chat beside the video,
the doctor's outcome from the room, the dashboard's waiting patients, the join/leave log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import AppointmentStatus, Role, SlotMode
from app.services import realtime
from app.services.chat import conversations
from app.services.visits import presence
from tests.factories import make_doctor, make_user
from tests.integration.visits.conftest import another_visit, video_visit

S = AppointmentStatus


def test_both_participants_open_the_room(client, auth, visit):
    auth.login(visit.patient.email)
    page = client.get(visit.path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="visit-room"' in text and 'data-side="patient"' in text
    assert "Waiting for the doctor" in text
    assert "Video visit with Dr. Lena Hart" in text
    auth.logout()

    auth.login(visit.doctor_user.email)
    text = client.get(visit.path).get_data(as_text=True)
    assert 'data-side="doctor"' in text and "Waiting for Sam Reed to join" in text


def test_a_third_user_a_second_patient_another_doctor_and_an_admin_get_404(client, auth, visit):
    other_patient = make_user(Role.PATIENT, email="second@example.com")
    video_visit(visit.doctor, other_patient, starts_in=timedelta(minutes=40))  # same doctor
    stranger = make_user(Role.PATIENT, email="stranger@example.com")
    other_doctor = make_doctor(clinic=visit.doctor.clinic)
    admin = make_user(Role.ADMIN, email="admin@example.com")
    for user in (other_patient, stranger, other_doctor.user, admin):
        auth.login(user.email)
        response = client.get(visit.path)
        assert response.status_code == 404, user.email
        assert "Sam Reed" not in response.get_data(as_text=True)
        auth.logout()


def test_signed_out_visitors_are_sent_to_sign_in(client, visit):
    response = client.get(visit.path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        (SlotMode.IN_PERSON, S.CONFIRMED),
        (SlotMode.VIDEO, S.PENDING_PAYMENT),
        (SlotMode.VIDEO, S.PENDING_APPROVAL),
        (SlotMode.VIDEO, S.CANCELLED),
        (SlotMode.VIDEO, S.REJECTED),
    ],
)
def test_in_person_and_unconfirmed_appointments_have_no_room(client, auth, visit, mode, status):
    appointment = video_visit(
        visit.doctor, visit.patient, starts_in=timedelta(hours=3), mode=mode, status=status
    )
    for user in (visit.patient, visit.doctor_user):
        auth.login(user.email)
        assert client.get(f"/visits/{appointment.id}").status_code == 404
        auth.logout()


def test_before_the_window_the_page_says_when_the_room_opens(client, auth, ctx):
    visit = another_visit(starts_in=timedelta(minutes=11))
    appointment = visit.appointment
    for user in (visit.patient, visit.doctor_user):
        auth.login(user.email)
        page = client.get(f"/visits/{appointment.id}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert 'data-testid="visit-not-open"' in text and 'data-testid="visit-room"' not in text
        opens = (appointment.starts_at - timedelta(minutes=10)).isoformat()
        assert f'data-opens-at="{opens}"' in text
        assert "The video room opens at" in text
        auth.logout()


def test_the_room_is_open_from_ten_minutes_before_to_thirty_after_the_end(client, auth, ctx):
    opening = another_visit(starts_in=timedelta(minutes=9, seconds=30))
    closing = another_visit(starts_in=-timedelta(minutes=59), minutes=30)  # ended 29 min ago
    closed = another_visit(starts_in=-timedelta(minutes=91), minutes=60)  # ended 31 min ago
    for shown in (opening, closing):
        auth.login(shown.patient.email)
        assert 'data-testid="visit-room"' in client.get(shown.path).get_data(as_text=True)
        auth.logout()
    auth.login(closed.doctor_user.email)
    page = client.get(closed.path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="visit-closed"' in text and 'data-testid="visit-room"' not in text
    assert "30 minutes after the visit" in text


def test_a_no_show_closes_the_room(client, auth, visit):
    visit.appointment.status = S.NO_SHOW
    db.session.commit()
    auth.login(visit.patient.email)
    text = client.get(visit.path).get_data(as_text=True)
    assert "recorded as a no-show" in text and 'data-testid="visit-room"' not in text


def test_the_chat_of_patient_and_doctor_sits_beside_the_video(client, auth, visit):
    auth.login(visit.patient.email)
    assert 'data-testid="thread"' not in client.get(visit.path).get_data(as_text=True)

    conversation, _ = conversations.open_conversation(
        actor_id=visit.patient.id, doctor_id=visit.doctor.id, now=datetime.now(UTC)
    )
    text = client.get(visit.path).get_data(as_text=True)
    assert f'data-conversation-id="{conversation.id}"' in text
    assert "Messages with Dr. Lena Hart" in text and 'data-testid="message-form"' in text


def _outcome(client, appointment_id: int, outcome: str, json: bool = True):
    headers = {"Accept": "application/json"} if json else {}
    return client.post(
        f"/visits/{appointment_id}/outcome", data={"outcome": outcome}, headers=headers
    )


def test_the_doctor_records_the_outcome_from_the_room(client, auth, ctx):
    visit = another_visit(starts_in=-timedelta(minutes=5))
    started = visit.appointment
    auth.login(visit.doctor_user.email)
    text = client.get(f"/visits/{started.id}").get_data(as_text=True)
    assert 'data-testid="outcome-complete"' in text and 'data-testid="outcome-no-show"' in text

    response = _outcome(client, started.id, "complete")
    assert response.status_code == 200
    assert response.get_json() == {
        "ok": True,
        "outcome": "complete",
        "message": "Marked completed.",
    }
    db.session.refresh(started)
    assert started.status is S.COMPLETED

    again = _outcome(client, started.id, "no_show")  # the booking service's own rule
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == "Only confirmed appointments get an outcome."
    # A completed visit's room stays open for the rest of its window, without the buttons.
    text = client.get(f"/visits/{started.id}").get_data(as_text=True)
    assert 'data-testid="visit-room"' in text and 'data-testid="visit-outcome"' not in text


def test_an_outcome_before_the_start_is_refused_and_only_the_doctor_records_it(client, auth, visit):
    auth.login(visit.doctor_user.email)
    assert 'data-testid="visit-outcome"' not in client.get(visit.path).get_data(as_text=True)
    early = _outcome(client, visit.appointment.id, "no_show")
    assert early.status_code == 409
    assert "once the visit has started" in early.get_json()["error"]["message"]
    form = _outcome(client, visit.appointment.id, "no_show", json=False)
    assert form.status_code == 303 and form.headers["Location"].endswith(visit.path)
    assert _outcome(client, visit.appointment.id, "maybe").status_code == 422
    auth.logout()

    other = make_doctor(clinic=visit.doctor.clinic)
    auth.login(other.user.email)
    assert _outcome(client, visit.appointment.id, "complete").status_code == 404
    auth.logout()
    auth.login(visit.patient.email)
    assert _outcome(client, visit.appointment.id, "complete").status_code == 403
    db.session.refresh(visit.appointment)
    assert visit.appointment.status is S.CONFIRMED


@pytest.fixture
def connected():
    """Mark users as having a socket connected (this process's presence, no Redis)."""
    marked = []

    def mark(user_id: int, sid: str) -> None:
        realtime.socket_connected(user_id, sid)
        marked.append((user_id, sid))

    yield mark
    for user_id, sid in marked:
        realtime.socket_disconnected(user_id, sid)


def test_the_dashboard_shows_the_patient_waiting_and_the_doctor_the_log(
    client, auth, visit, connected
):
    auth.login(visit.doctor_user.email)
    rooms = client.get("/visits/waiting").get_data(as_text=True)
    assert "Sam Reed" in rooms and 'data-testid="visit-not-arrived"' in rooms
    dashboard = client.get("/doctor/").get_data(as_text=True)
    assert 'data-testid="visit-rooms"' in dashboard and "Video visits open now" in dashboard

    now = datetime.now(UTC)
    connected(visit.patient.id, "patient-socket")
    joined = presence.record_join(
        appointment_id=visit.appointment.id,
        user_id=visit.patient.id,
        socket_id="patient-socket",
        now=now,
    )
    assert joined.peer_present is False
    rooms = client.get("/visits/waiting").get_data(as_text=True)
    assert 'data-testid="visit-waiting"' in rooms and "is waiting for you" in rooms

    # A "left" from another socket (a replaced window) does not end the patient's presence.
    assert not presence.record_leave(
        appointment_id=visit.appointment.id,
        user_id=visit.patient.id,
        socket_id="old-window",
        now=now + timedelta(seconds=5),
    )
    assert presence.record_leave(
        appointment_id=visit.appointment.id,
        user_id=visit.patient.id,
        socket_id="patient-socket",
        now=now + timedelta(seconds=30),
    )
    assert 'data-testid="visit-waiting"' not in client.get("/visits/waiting").get_data(as_text=True)

    log = client.get(f"/doctor/appointments/{visit.appointment.id}").get_data(as_text=True)
    assert log.count('data-testid="visit-log-entry"') == 2
    assert "Sam Reed joined" in log and "Sam Reed left" in log
    auth.logout()
    auth.login(visit.patient.email)  # the patient does not see the doctor's page
    assert client.get(f"/doctor/appointments/{visit.appointment.id}").status_code in (403, 404)


def test_an_in_person_appointment_page_has_no_video_log(client, auth, visit):
    in_person = video_visit(
        visit.doctor, visit.patient, starts_in=timedelta(days=1), mode=SlotMode.IN_PERSON
    )
    auth.login(visit.doctor_user.email)
    text = client.get(f"/doctor/appointments/{in_person.id}").get_data(as_text=True)
    assert 'data-testid="visit-log"' not in text
    text = client.get(f"/doctor/appointments/{visit.appointment.id}").get_data(as_text=True)
    assert "Nobody has joined the video room yet." in text


def test_the_patients_appointment_page_links_to_the_room(client, auth, visit):
    auth.login(visit.patient.email)
    text = client.get(f"/appointments/{visit.appointment.id}").get_data(as_text=True)
    assert f'href="{visit.path}"' in text
