"""The Twilio SMS provider against a local server of the Messages API's shape: what it
posts, what counts as sent, and that refusals and silence become DeliveryFailed (bounded in
time, never carrying the text, which may hold a sign-in code)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.models import AppointmentStatus, Notification, NotificationChannel, NotificationStatus
from app.services import messaging
from app.services.notifications import delivery, outbox
from tests.factories import make_appointment, make_user
from tests.sms_server import ACCOUNT_SID


@pytest.fixture
def twilio_app(make_app, database_url, app, twilio):
    def build(**overrides):
        return make_app(database_url, **twilio.config(**overrides))

    return build


def test_a_text_is_posted_with_basic_auth_and_the_form_fields(twilio_app, twilio):
    with twilio_app().app_context():
        messaging.send_sms(to="+447911123456", body="Your code is 123456")
    [request] = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.authorized
    assert request.form == {
        "To": "+447911123456",
        "Body": "Your code is 123456",
        "From": twilio.from_number,
    }
    assert twilio.messages == [request.form]


def test_a_messaging_service_replaces_the_from_number(twilio_app, twilio):
    app = twilio_app(TWILIO_MESSAGING_SERVICE_SID="MG0000000000000000000000000000000a")
    with app.app_context():
        messaging.send_sms(to="+15551234567", body="Hello")
    [form] = twilio.messages
    assert form["MessagingServiceSid"] == "MG0000000000000000000000000000000a"
    assert "From" not in form


def test_wrong_credentials_are_a_delivery_failure_with_twilios_code(twilio_app, twilio):
    with (
        twilio_app(TWILIO_AUTH_TOKEN="wrong").app_context(),
        pytest.raises(messaging.DeliveryFailed, match="HTTP 401, Twilio error 20003: Authenticate"),
    ):
        messaging.send_sms(to="+15551234567", body="Your code is 654321")
    assert twilio.messages == []


@pytest.mark.parametrize(("status", "code"), [(400, 21610), (500, 20500)])
def test_an_error_answer_is_a_delivery_failure_without_the_text(twilio_app, twilio, status, code):
    twilio.answer(status)
    with twilio_app().app_context(), pytest.raises(messaging.DeliveryFailed) as failure:
        messaging.send_sms(to="+447911123456", body="Your code is 987654")
    message = str(failure.value)
    assert f"HTTP {status}, Twilio error {code}" in message
    assert "987654" not in message and "+447911123456" not in message
    assert "+4479•••••456" in message


def test_a_server_that_never_answers_fails_within_the_timeout(twilio_app, twilio):
    twilio.stall()
    started = time.monotonic()
    with (
        twilio_app(TWILIO_TIMEOUT_SECONDS=1).app_context(),
        pytest.raises(messaging.DeliveryFailed, match="did not answer within 1 s"),
    ):
        messaging.send_sms(to="+15551234567", body="Your code is 111222")
    assert time.monotonic() - started < 5


def test_an_unreachable_server_is_a_delivery_failure(twilio_app):
    from tests.servers import free_port

    app = twilio_app(TWILIO_API_BASE=f"http://127.0.0.1:{free_port()}")
    with app.app_context(), pytest.raises(messaging.DeliveryFailed, match="ConnectionError"):
        messaging.send_sms(to="+15551234567", body="Your code is 333444")


def test_an_sms_notification_goes_through_twilio_and_a_refusal_is_retried(twilio_app, twilio, ctx):
    app = twilio_app()
    with app.app_context():
        patient = make_user(phone="+447911123456", phone_verified_at=datetime.now(UTC))
        appointment = make_appointment(patient=patient, status=AppointmentStatus.CANCELLED)
        ids = []
        for n in (1, 2):
            ids += outbox.notify(
                patient,
                "appointment.cancelled",
                key=f"test:{n}",
                data={"appointment_id": appointment.id, "by": "doctor"},
                channels=[NotificationChannel.SMS],
            )
        db.session.commit()
        now = datetime.now(UTC)

        assert delivery.deliver(ids[:1], now=now).sent == 1
        [form] = twilio.messages
        assert form["To"] == "+447911123456" and "was cancelled" in form["Body"]

        twilio.answer(500)
        assert delivery.deliver(ids[1:], now=now).retrying == ids[1:]
        refused = db.session.get(Notification, ids[1])
        assert refused.status is NotificationStatus.PENDING
        assert "HTTP 500, Twilio error 20500" in refused.last_error
        assert "was cancelled" not in refused.last_error
        db.session.remove()
