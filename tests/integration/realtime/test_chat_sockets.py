"""The chat over Socket.IO against live servers sharing Redis: send_message (acknowledged,
delivered to the other participant, through either server), mark_read, typing, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.models import Message, Notification, Role, User
from app.services.chat import conversations, messages
from tests.factories import make_clinic, make_doctor, make_user
from tests.integration.chat.conftest import visit


@dataclass
class Chat:
    patient: User
    doctor_user: User
    conversation_id: int


@pytest.fixture
def chat(ctx) -> Chat:
    doctor = make_doctor(clinic=make_clinic(), name="Dr. Ana Ruiz")
    patient = make_user(Role.PATIENT, name="Pat Doe", email="pat@example.com")
    visit(doctor, patient)
    conversation, _ = conversations.open_conversation(
        actor_id=patient.id, doctor_id=doctor.id, now=datetime.now(UTC)
    )
    return Chat(patient, doctor.user, conversation.id)


@pytest.fixture
def sockets(realtime_servers, auth, listeners, chat):
    """The patient on server 1, the doctor on server 2 (a message crosses Redis)."""
    patient = listeners().connect(realtime_servers[0], token=auth.token(chat.patient.email))
    doctor = listeners().connect(realtime_servers[1], token=auth.token(chat.doctor_user.email))
    return patient, doctor


def test_a_message_is_acknowledged_and_reaches_the_other_participant(chat, sockets):
    patient, doctor = sockets
    ack = patient.call("send_message", {"conversation_id": chat.conversation_id, "body": "Hi"})
    assert ack["ok"] is True
    sent = ack["message"]
    assert set(sent) == {
        "id",
        "conversation_id",
        "sender_id",
        "body",
        "attachment",
        "created_at",
        "read_at",
    }
    assert sent["body"] == "Hi" and sent["sender_id"] == chat.patient.id
    assert doctor.next("message") == sent
    assert patient.next("message") == sent  # every socket of both participants
    assert doctor.next("unread") == {"total": 1}
    db.session.expire_all()
    assert db.session.get(Message, sent["id"]).body == "Hi"  # committed before it was emitted
    # The doctor is connected: no in-app notification (the socket showed it).
    assert db.session.query(Notification).filter_by(kind="chat.message").count() == 1  # email


def test_html_in_a_body_arrives_unchanged_as_data(chat, sockets):
    patient, doctor = sockets
    body = '<img src=x onerror="alert(1)"><b>bold</b> & <script>x()</script>'
    ack = patient.call("send_message", {"conversation_id": chat.conversation_id, "body": body})
    assert ack["ok"] is True and ack["message"]["body"] == body
    assert doctor.next("message")["body"] == body


def test_a_strangers_conversation_is_not_found_and_nothing_is_delivered(
    chat, sockets, auth, listeners, realtime_server
):
    patient, doctor = sockets
    make_user(Role.PATIENT, email="eve@example.com")
    eve = listeners().connect(realtime_server, token=auth.token("eve@example.com"))
    for event, data in (
        ("send_message", {"conversation_id": chat.conversation_id, "body": "psst"}),
        ("mark_read", {"conversation_id": chat.conversation_id, "up_to_id": 1}),
        ("typing", {"conversation_id": chat.conversation_id}),
    ):
        ack = eve.call(event, data)
        assert ack["ok"] is False and ack["error"]["code"] == "not_found", (event, ack)
    ack = eve.call("send_message", {"conversation_id": 999999, "body": "psst"})
    assert ack["error"]["code"] == "not_found"  # missing and not yours look the same
    assert doctor.nothing("message") and patient.nothing("message", timeout=0.1)
    assert doctor.nothing("typing", timeout=0.1)
    db.session.expire_all()
    assert db.session.query(Message).count() == 0


def test_bad_input_is_acknowledged_as_an_error(chat, sockets):
    patient, _ = sockets
    assert patient.call("send_message", "nonsense")["error"]["code"] == "invalid_input"
    ack = patient.call("send_message", {"conversation_id": chat.conversation_id, "body": "  "})
    assert ack["error"]["code"] == "invalid_message"
    ack = patient.call("mark_read", {"conversation_id": chat.conversation_id, "up_to_id": "x"})
    assert ack["error"]["code"] == "invalid_input"


def test_mark_read_sends_the_receipt_to_the_sender(chat, sockets):
    patient, doctor = sockets
    sent = patient.call("send_message", {"conversation_id": chat.conversation_id, "body": "Hi"})
    up_to = sent["message"]["id"]
    doctor.next("message")
    ack = doctor.call("mark_read", {"conversation_id": chat.conversation_id, "up_to_id": up_to})
    assert ack == {"ok": True, "marked": 1}
    receipt = {"conversation_id": chat.conversation_id, "reader_id": chat.doctor_user.id}
    assert patient.next("read") == {**receipt, "up_to_id": up_to}
    assert doctor.next("read") == {**receipt, "up_to_id": up_to}
    unread = [doctor.next("unread"), doctor.next("unread")]
    assert unread == [{"total": 1}, {"total": 0}]


def test_typing_reaches_only_the_other_participant(chat, sockets):
    patient, doctor = sockets
    assert patient.call("typing", {"conversation_id": chat.conversation_id}) == {"ok": True}
    assert doctor.next("typing") == {
        "conversation_id": chat.conversation_id,
        "user_id": chat.patient.id,
    }
    assert patient.nothing("typing")


def test_the_21st_message_in_ten_seconds_is_refused(chat, sockets):
    patient, _ = sockets
    data = {"conversation_id": chat.conversation_id, "body": "again"}
    for _ in range(messages.RATE_LIMIT):
        assert patient.call("send_message", data)["ok"] is True
    ack = patient.call("send_message", data)
    assert ack["ok"] is False and ack["error"]["code"] == "too_many_messages"
    assert "wait" in ack["error"]["message"]
