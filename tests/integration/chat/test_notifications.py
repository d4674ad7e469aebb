"""The recipient of a message is told in Carebook at once, and by email when the burst is
still unread ten minutes after it began (once per burst; not at all when read before)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Notification, NotificationChannel, NotificationStatus
from app.services import realtime
from app.services.chat import messages
from app.services.notifications import outbox

C = NotificationChannel


@pytest.fixture
def mail(app, smtp_server, inbox, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.port)
    return inbox


def _rows(channel):
    return db.session.query(Notification).filter_by(kind="chat.message", channel=channel).all()


def _say(pair, at, body="hello"):
    return messages.send_message(
        conversation_id=pair.conversation_id, sender_id=pair.doctor_user.id, body=body, now=at
    )


def test_in_app_at_once_and_one_email_ten_minutes_later_for_the_burst(pair, mail):
    now = datetime.now(UTC)
    _say(pair, now)
    _say(pair, now + timedelta(minutes=1), "and another")
    (in_app,) = _rows(C.IN_APP)
    assert in_app.user_id == pair.patient.id and in_app.status is NotificationStatus.SENT
    (email,) = _rows(C.EMAIL)  # one burst, one email
    assert email.status is NotificationStatus.PENDING
    assert email.available_at == now + messages.EMAIL_AFTER

    # Neither inline delivery after the commit nor the sweep sends it early.
    assert mail.to("pat@example.com") == []
    assert outbox.requeue_stale(now=now + timedelta(minutes=9)) == 0
    db.session.refresh(email)
    assert email.attempts == 0 and email.status is NotificationStatus.PENDING

    outbox.requeue_stale(now=now + timedelta(minutes=12))
    (received,) = mail.to("pat@example.com")
    assert received.subject == "New message from Dr. Ana Ruiz"
    assert "hello" not in received.body  # the message itself stays in Carebook


def test_no_in_app_notification_while_the_recipient_has_a_socket(pair, mail, monkeypatch):
    asked = []
    monkeypatch.setattr(realtime, "is_connected", lambda uid: asked.append(uid) or True)
    now = datetime.now(UTC)
    _say(pair, now)
    assert asked == [pair.patient.id]
    assert _rows(C.IN_APP) == []  # the socket shows it live
    (email,) = _rows(C.EMAIL)  # the email still follows if it stays unread
    assert email.available_at == now + messages.EMAIL_AFTER


def test_no_email_when_the_message_was_read_in_time(pair, mail):
    now = datetime.now(UTC)
    message = _say(pair, now)
    messages.mark_read(
        conversation_id=pair.conversation_id,
        reader_id=pair.patient.id,
        up_to_id=message.id,
        now=now + timedelta(minutes=3),
    )
    outbox.requeue_stale(now=now + timedelta(minutes=12))
    assert mail.to("pat@example.com") == []
    (email,) = _rows(C.EMAIL)
    assert email.status is NotificationStatus.SKIPPED
    (in_app,) = _rows(C.IN_APP)
    assert in_app.read_at is not None

    # A new burst after reading is told again.
    _say(pair, now + timedelta(minutes=20), "later")
    assert len(_rows(C.EMAIL)) == 2 and len(_rows(C.IN_APP)) == 2


def test_the_messages_category_can_be_turned_off_for_email(client, auth, pair, mail):
    auth.login(pair.patient.email)
    client.post("/notifications/settings", data={"on": ["messages:in_app"]})
    _say(pair, datetime.now(UTC))
    assert _rows(C.EMAIL) == [] and len(_rows(C.IN_APP)) == 1
