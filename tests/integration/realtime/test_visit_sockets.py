"""The video room's signalling over Socket.IO against live servers sharing Redis (issue 11):
the two participants enter and their offer, answer and ICE candidates reach the other one
only; a third user, a second patient of the same doctor, and either participant outside the
room's window are refused, event by event; entering and leaving is logged."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, SlotMode, VisitEvent
from tests.factories import make_clinic, make_doctor, make_user
from tests.integration.visits.conftest import Visit, video_visit

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


@pytest.fixture
def visit(ctx) -> Visit:
    doctor = make_doctor(clinic=make_clinic(), name="Dr. Lena Hart")
    patient = make_user(Role.PATIENT, name="Sam Reed", email="sam@example.com")
    return Visit(doctor, patient, video_visit(doctor, patient))


@pytest.fixture
def connect(realtime_servers, auth, listeners):
    """connect(user, server=0): a socket of that user (bearer token) on one of the servers."""

    def make(user, server: int = 0):
        return listeners().connect(realtime_servers[server], token=auth.token(user.email))

    return make


def _signal(appointment_id: int, **payload) -> dict:
    return {"appointment_id": appointment_id, "session": "s1", **payload}


def _events(appointment_id: int) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [
        (e.user_id, e.kind.value)
        for e in db.session.scalars(
            select(VisitEvent)
            .where(VisitEvent.appointment_id == appointment_id)
            .order_by(VisitEvent.id)
        )
    ]


def test_participants_enter_and_signal_only_to_each_other(visit, connect):
    a = visit.appointment.id
    patient = connect(visit.patient, 0)  # the patient on one server, the doctor on the other
    doctor = connect(visit.doctor_user, 1)
    patient_elsewhere = connect(visit.patient, 0)  # another tab that did not enter the room

    entered = patient.call("visit_join", {"appointment_id": a})
    assert entered == {
        "ok": True,
        "side": "patient",
        "peer_present": False,
        "peer_name": "Dr. Lena Hart",
        "ice_servers": [],
    }
    assert doctor.next("visit_presence") == {"appointment_id": a}  # the dashboard refreshes

    doctor_entered = doctor.call("visit_join", {"appointment_id": a})
    assert doctor_entered["ok"] is True and doctor_entered["side"] == "doctor"
    assert doctor_entered["peer_present"] is True
    assert patient.next("visit_peer") == {
        "appointment_id": a,
        "user_id": visit.doctor_user.id,
        "state": "joined",
    }

    assert doctor.call("visit_offer", _signal(a, description=OFFER)) == {"ok": True}
    assert patient.next("visit_offer") == {
        "appointment_id": a,
        "from": visit.doctor_user.id,
        "session": "s1",
        "description": OFFER,
    }
    assert patient.call("visit_answer", _signal(a, description=ANSWER)) == {"ok": True}
    assert doctor.next("visit_answer")["description"] == ANSWER
    assert patient.call("visit_candidate", _signal(a, candidate=CANDIDATE)) == {"ok": True}
    assert doctor.next("visit_candidate")["candidate"] == CANDIDATE
    assert doctor.call("visit_candidate", _signal(a, candidate=None)) == {"ok": True}
    assert patient.next("visit_candidate")["candidate"] is None

    # Nothing comes back to the sender, nor to the patient's tab outside the room.
    assert doctor.nothing("visit_offer") and doctor.nothing("visit_candidate", timeout=0.2)
    assert patient_elsewhere.nothing("visit_offer", timeout=0.2)
    assert patient_elsewhere.nothing("visit_candidate", timeout=0.2)

    assert patient.call("visit_leave", {"appointment_id": a}) == {"ok": True}
    assert doctor.next("visit_peer")["state"] == "left"
    doctor.close()  # a socket that goes leaves the room too
    deadline = time.monotonic() + 10
    while len(_events(a)) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _events(a) == [
        (visit.patient.id, "joined"),
        (visit.doctor_user.id, "joined"),
        (visit.patient.id, "left"),
        (visit.doctor_user.id, "left"),
    ]


def _refused(listener, event: str, data: dict, code: str) -> None:
    ack = listener.call(event, data)
    assert ack["ok"] is False, (event, ack)
    assert ack["error"]["code"] == code, (event, ack)


SIGNALS = (
    ("visit_offer", {"description": OFFER}),
    ("visit_answer", {"description": ANSWER}),
    ("visit_candidate", {"candidate": CANDIDATE}),
)


def test_a_third_user_and_a_second_patient_of_the_doctor_are_refused(visit, connect):
    a = visit.appointment.id
    patient = connect(visit.patient)
    assert patient.call("visit_join", {"appointment_id": a})["ok"] is True
    second = make_user(Role.PATIENT, email="second@example.com")
    own = video_visit(visit.doctor, second, starts_in=timedelta(minutes=40))
    stranger = make_user(Role.PATIENT, email="stranger@example.com")
    other_doctor = make_doctor(clinic=visit.doctor.clinic)
    for user in (second, stranger, other_doctor.user):
        socket = connect(user, 1)
        _refused(socket, "visit_join", {"appointment_id": a}, "visit_not_found")
        _refused(socket, "visit_leave", {"appointment_id": a}, "visit_not_found")
        for event, payload in SIGNALS:
            _refused(socket, event, _signal(a, **payload), "visit_not_found")
    # The second patient's own room (not open yet) is not a way into the first one either.
    second_socket = connect(second)
    _refused(second_socket, "visit_join", {"appointment_id": own.id}, "visit_not_open")
    assert patient.nothing("visit_offer") and patient.nothing("visit_candidate", timeout=0.2)
    assert patient.nothing("visit_peer", timeout=0.2)
    assert _events(a) == [(visit.patient.id, "joined")]


@pytest.mark.parametrize(
    ("starts_in", "minutes"),
    [
        (timedelta(minutes=11), 30),  # opens in a minute
        (-timedelta(minutes=91), 60),  # closed a minute ago
    ],
)
def test_participants_outside_the_window_are_refused(ctx, connect, starts_in, minutes):
    doctor = make_doctor(name="Dr. Early")
    patient = make_user(Role.PATIENT)
    a = video_visit(doctor, patient, starts_in=starts_in, minutes=minutes).id
    for user in (patient, doctor.user):
        socket = connect(user)
        _refused(socket, "visit_join", {"appointment_id": a}, "visit_not_open")
        for event, payload in SIGNALS:
            _refused(socket, event, _signal(a, **payload), "visit_not_open")
    assert _events(a) == []


def test_in_person_and_unknown_appointments_have_no_room(visit, connect):
    in_person = video_visit(
        visit.doctor, visit.patient, starts_in=timedelta(minutes=-40), mode=SlotMode.IN_PERSON
    )
    socket = connect(visit.patient)
    for a in (in_person.id, 999_999):
        _refused(socket, "visit_join", {"appointment_id": a}, "visit_not_found")
        _refused(socket, "visit_offer", _signal(a, description=OFFER), "visit_not_found")


def test_signalling_needs_the_room_entered_and_a_valid_message(visit, connect):
    a = visit.appointment.id
    patient = connect(visit.patient)
    _refused(patient, "visit_offer", _signal(a, description=OFFER), "not_joined")
    assert patient.call("visit_join", {"appointment_id": a})["ok"] is True
    bad = [
        ("visit_join", {"appointment_id": "1"}),
        ("visit_join", {"appointment_id": True}),
        ("visit_join", []),
        ("visit_offer", _signal(a, description=ANSWER)),  # an answer sent as an offer
        ("visit_offer", _signal(a, description={"type": "offer", "sdp": "x" * 100_001})),
        ("visit_answer", _signal(a)),
        ("visit_candidate", _signal(a)),
        ("visit_candidate", _signal(a, candidate={"candidate": 5})),
        ("visit_candidate", _signal(a, candidate={**CANDIDATE, "sdpMLineIndex": -1})),
        ("visit_offer", {"appointment_id": a, "description": OFFER}),  # no session
        ("visit_offer", {**_signal(a, description=OFFER), "session": "<script>"}),
    ]
    for event, data in bad:
        _refused(patient, event, data, "invalid_input")
