"""Deliveries: signed POSTs to a local receiver, retried after a failure, refused for private
addresses at delivery time, endpoints disabled after failing in a row (owners told)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AppointmentStatus,
    Notification,
    NotificationChannel,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookSubscription,
)
from app.services.notifications.kinds import KINDS
from app.services.queues import QUEUES
from app.services.scheduling import booking
from app.services.transaction import transaction
from app.services.webhooks import delivery, events
from tests.factories import make_clinic
from tests.integration.admin.conftest import make_helper
from tests.integration.webhooks.conftest import book, future_slot, register, verify

St = WebhookDeliveryStatus


def deliveries() -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_booking_is_posted_signed_to_the_clinics_endpoint(
    allow_private, receiver, owner, doctor, patient
):
    endpoint_id, secret = register(owner, doctor.clinic_id, receiver.url)

    appointment = book(patient, doctor)

    assert [r.headers["Carebook-Event"] for r in receiver.requests] == [
        "appointment.created",
        "appointment.confirmed",
    ]
    first = receiver.requests[0]
    assert first.path == "/hooks"
    assert first.headers["Content-Type"] == "application/json"
    event = verify(secret, first.headers, first.body)
    assert event["type"] == "appointment.created"
    assert event["id"] == first.headers["Carebook-Event-Id"]
    assert event["clinic_id"] == doctor.clinic_id
    assert event["created_at"].endswith("+00:00")
    assert event["data"] == {
        "appointment_id": appointment.id,
        "status": "confirmed",
        "doctor_id": doctor.id,
        "patient_id": patient.id,
        "slot_id": appointment.slot_id,
        "starts_at": appointment.starts_at.astimezone(UTC).isoformat(),
        "ends_at": appointment.ends_at.astimezone(UTC).isoformat(),
        "payment_method": "cash",
    }
    assert b"back pain" not in first.body and b"pat@example.com" not in first.body
    # A wrong secret does not verify: the signature is over this body with this secret.
    with pytest.raises(AssertionError, match="bad signature"):
        verify("whsec_someone-else", first.headers, first.body)
    rows = deliveries()
    assert [(r.endpoint_id, r.status, r.attempts, r.response_code) for r in rows] == [
        (endpoint_id, St.DELIVERED, 1, 200),
        (endpoint_id, St.DELIVERED, 1, 200),
    ]


def test_other_clinics_and_unsubscribed_events_hear_nothing(
    allow_private, receiver, owner, doctor, patient
):
    register(owner, make_clinic().id, receiver.url)  # another clinic
    register(owner, doctor.clinic_id, receiver.url, events=["appointment.cancelled"])

    appointment = book(patient, doctor)
    assert receiver.requests == [] and deliveries() == []

    booking.cancel_appointment(
        appointment_id=appointment.id, actor_id=doctor.user_id, now=datetime.now(UTC)
    )
    [request] = receiver.requests
    assert request.headers["Carebook-Event"] == "appointment.cancelled"
    assert b'"status":"cancelled"' in request.body and b'"cancelled_by":"doctor"' in request.body


def test_emit_without_endpoints_writes_nothing(doctor):
    with transaction():
        ids = events.emit(doctor.clinic_id, "appointment.created", {}, now=datetime.now(UTC))
    assert ids == [] and deliveries() == []


def test_a_500_is_retried_after_the_backoff_and_both_attempts_are_logged(
    allow_private, receiver, owner, doctor, patient
):
    register(owner, doctor.clinic_id, receiver.url, events=["appointment.created"])
    receiver.answer(500, 200)
    before = datetime.now(UTC)

    book(patient, doctor)

    [row] = deliveries()
    assert (row.status, row.attempts, row.response_code) == (St.PENDING, 1, 500)
    assert row.last_error == "HTTP 500"
    assert timedelta(seconds=55) < row.available_at - before < timedelta(seconds=70)
    # Not yet due: the dispatcher leaves it alone.
    assert delivery.requeue_stale(now=datetime.now(UTC)) == 0
    assert len(receiver.requests) == 1

    assert delivery.requeue_stale(now=datetime.now(UTC) + timedelta(minutes=3)) == 1

    db.session.expire_all()
    row = db.session.get(WebhookDelivery, row.id)
    assert (row.status, row.attempts, row.response_code, row.last_error) == (
        St.DELIVERED,
        2,
        200,
        None,
    )
    attempts = db.session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id == row.id).order_by("id")
    ).all()
    assert [(a.response_code, a.error) for a in attempts] == [(500, "HTTP 500"), (200, None)]
    # The same event twice, each signed afresh.
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["Carebook-Event-Id"] == second.headers["Carebook-Event-Id"]


def test_a_delivery_fails_for_good_after_a_day_of_retries(
    allow_private, receiver, owner, doctor, patient
):
    register(owner, doctor.clinic_id, receiver.url, events=["appointment.created"])
    receiver.answer(503)
    start = datetime.now(UTC)
    book(patient, doctor)
    [row] = deliveries()
    moment = start
    for _ in delivery.BACKOFF:
        db.session.expire_all()
        moment = db.session.get(WebhookDelivery, row.id).available_at
        delivery.deliver([row.id], now=moment)

    db.session.expire_all()
    row = db.session.get(WebhookDelivery, row.id)
    assert (row.status, row.attempts) == (St.FAILED, delivery.MAX_ATTEMPTS)
    assert timedelta(hours=23) < moment - start < timedelta(hours=25)
    assert len(receiver.requests) == delivery.MAX_ATTEMPTS


def test_the_address_is_checked_again_at_delivery_time(
    app, allow_private, receiver, owner, doctor, patient, monkeypatch
):
    """Registered while private addresses were allowed (or a name that resolved elsewhere
    then: DNS rebinding); the delivery checks the address again and refuses it."""
    register(owner, doctor.clinic_id, receiver.url, events=["appointment.created"])
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)

    book(patient, doctor)

    assert receiver.requests == []
    [row] = deliveries()
    assert row.status is St.PENDING and row.response_code is None
    assert "127.0.0.1, a loopback address" in row.last_error
    [attempt] = row.attempt_log
    assert attempt.response_code is None and attempt.error.startswith("refused:")


def test_an_endpoint_failing_in_a_row_is_disabled_and_its_owners_told(
    app, allow_private, receiver, owner, doctor, patient, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOKS_DISABLE_AFTER", 2)
    manager = make_helper("integrations.manage")
    bystander = make_helper("bookings.view")
    endpoint_id, _ = register(owner, doctor.clinic_id, receiver.url, ["appointment.created"])
    receiver.answer(500)
    book(patient, doctor, days=3)
    book(patient, doctor, days=4)
    ids = [r.id for r in deliveries()]
    moment = datetime.now(UTC)
    for _ in delivery.BACKOFF:
        moment += timedelta(hours=16)
        report = delivery.deliver(ids, now=moment)

    assert report.failed == 2 and report.disabled == [endpoint_id]
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert not endpoint.enabled and endpoint.disabled_reason == "2 deliveries in a row failed"
    told = db.session.scalars(
        select(Notification.user_id).where(
            Notification.kind == "webhook.disabled",
            Notification.channel == NotificationChannel.IN_APP,
        )
    ).all()
    assert sorted(told) == sorted([owner.id, manager.id])
    assert bystander.id not in told
    notice = db.session.scalar(
        select(Notification).where(
            Notification.user_id == owner.id, Notification.kind == "webhook.disabled"
        )
    )
    message = KINDS["webhook.disabled"].render(notice.data, owner)
    assert message.subject == "A webhook endpoint of Harbour Clinic was disabled"
    assert "HTTP 500" in message.body and message.url.endswith(f"/admin/webhooks/{endpoint_id}")
    # A disabled endpoint gets nothing more.
    before = len(receiver.requests)
    book(patient, doctor, days=5)
    assert len(receiver.requests) == before and len(deliveries()) == 2


def test_a_success_starts_the_failure_count_again(
    app, allow_private, receiver, owner, doctor, patient, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOKS_DISABLE_AFTER", 2)
    endpoint_id, _ = register(owner, doctor.clinic_id, receiver.url, ["appointment.created"])
    receiver.answer(500)
    book(patient, doctor, days=3)
    [failing] = [r.id for r in deliveries()]
    moment = datetime.now(UTC)
    for _ in delivery.BACKOFF:
        moment += timedelta(hours=16)
        delivery.deliver([failing], now=moment)
    assert db.session.get(WebhookEndpoint, endpoint_id).consecutive_failures == 1

    receiver.answer(200)
    book(patient, doctor, days=4)

    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert endpoint.enabled and endpoint.consecutive_failures == 0


def test_the_rq_worker_delivers_after_the_commit(
    app, allow_private, receiver, owner, doctor, patient, redis_url, monkeypatch
):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    _, secret = register(owner, doctor.clinic_id, receiver.url, ["appointment.confirmed"])

    book(patient, doctor)
    assert receiver.requests == []  # on the queue, not sent from the request
    [row] = deliveries()
    assert row.status is St.PENDING and row.attempts == 0

    SimpleWorker(list(QUEUES), connection=Redis.from_url(redis_url)).work(burst=True)

    [request] = receiver.requests
    assert verify(secret, request.headers, request.body)["type"] == "appointment.confirmed"
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, row.id).status is St.DELIVERED


def test_the_sweep_hands_on_a_delivery_whose_enqueue_was_lost(
    app, allow_private, receiver, owner, doctor, patient, redis_url, monkeypatch
):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # Redis down
    register(owner, doctor.clinic_id, receiver.url, ["appointment.created"])
    book(patient, doctor)
    [row] = deliveries()
    assert row.status is St.PENDING and receiver.requests == []

    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    close_pools()
    assert delivery.requeue_stale(now=datetime.now(UTC) + timedelta(minutes=2)) == 1
    SimpleWorker(list(QUEUES), connection=Redis.from_url(redis_url)).work(burst=True)

    assert len(receiver.requests) == 1
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, row.id).status is St.DELIVERED


def close_pools() -> None:
    from app.services.queues import close_connections

    close_connections()


def test_signature_matches_the_documented_algorithm():
    body = '{"id":"e1"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body.encode(), hashlib.sha256).hexdigest()
    assert delivery.signature("whsec_x", 1700000000, body) == f"t=1700000000,v1={expected}"


def test_completed_visits_and_reschedules_are_events(
    allow_private, receiver, owner, doctor, patient
):
    register(
        owner,
        doctor.clinic_id,
        receiver.url,
        ["appointment.rescheduled", "appointment.completed"],
    )
    appointment = book(patient, doctor)
    moved = booking.reschedule_appointment(
        appointment_id=appointment.id,
        new_slot_id=future_slot(doctor, days=5).id,
        actor_id=patient.id,
        now=datetime.now(UTC),
    )
    [request] = receiver.requests
    assert request.headers["Carebook-Event"] == "appointment.rescheduled"
    assert f'"rescheduled_from_id":{appointment.id}'.encode() in request.body
    assert f'"appointment_id":{moved.id}'.encode() in request.body

    booking.record_outcome(
        appointment_id=moved.id,
        outcome=AppointmentStatus.COMPLETED,
        actor_id=doctor.user_id,
        now=moved.starts_at + timedelta(minutes=5),
    )
    assert receiver.requests[-1].headers["Carebook-Event"] == "appointment.completed"
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 2


def test_emit_is_one_insert_select_on_both_databases(any_db):
    """One row per enabled endpoint of the clinic subscribed to the event, nothing for the
    others, on PostgreSQL and on SQLite (the embedded default of `make run`)."""
    clinic, other = make_clinic(), make_clinic()

    def endpoint(clinic_id, events, enabled=True):
        row = WebhookEndpoint(
            clinic_id=clinic_id,
            url="https://example.com/hook",
            secret_sealed="whsec_test",
            enabled=enabled,
            subscriptions=[WebhookSubscription(event=e) for e in events],
        )
        db.session.add(row)
        db.session.commit()
        return row.id

    wanted = endpoint(clinic.id, ["appointment.created", "appointment.cancelled"])
    endpoint(clinic.id, ["appointment.cancelled"])
    endpoint(clinic.id, ["appointment.created"], enabled=False)
    endpoint(other.id, ["appointment.created"])
    now = datetime.now(UTC)

    with transaction():
        ids = events.emit(clinic.id, "appointment.created", {"appointment_id": 7}, now=now)
        db.session.info.pop(events.NEW)  # handing on is not what this test is about

    [row] = deliveries()
    assert ids == [row.id]
    assert (row.endpoint_id, row.event, row.status, row.attempts) == (
        wanted,
        "appointment.created",
        St.PENDING,
        0,
    )
    assert events.body_for(row.event_id, row.event, clinic.id, {"appointment_id": 7}, now) == (
        row.body
    )


def test_emit_all_writes_every_event_of_a_change_in_one_statement_in_order(any_db):
    """A booking's created and confirmed: one INSERT ... SELECT, each endpoint's deliveries in
    the events' order, each event with its own id and body, on both databases."""
    clinic = make_clinic()
    both, confirmed_only = (
        WebhookEndpoint(
            clinic_id=clinic.id,
            url="https://example.com/hook",
            secret_sealed="whsec_test",
            subscriptions=[WebhookSubscription(event=e) for e in subscribed],
        )
        for subscribed in (
            ["appointment.confirmed", "appointment.created"],
            ["appointment.confirmed"],
        )
    )
    db.session.add_all([both, confirmed_only])
    db.session.commit()
    now = datetime.now(UTC)
    sent = []

    def listen(_conn, _cursor, statement, *_args):
        sent.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", listen)
    try:
        with transaction():
            ids = events.emit_all(
                clinic.id,
                [("appointment.created", {"n": 1}), ("appointment.confirmed", {"n": 2})],
                now=now,
            )
            db.session.info.pop(events.NEW)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", listen)

    assert len([s for s in sent if s.startswith("INSERT INTO webhook_deliveries")]) == 1
    rows = deliveries()
    assert ids == [r.id for r in rows]
    assert [(r.endpoint_id, r.event) for r in rows] == [
        (both.id, "appointment.created"),
        (both.id, "appointment.confirmed"),
        (confirmed_only.id, "appointment.confirmed"),
    ]
    created, confirmed, again = rows
    assert confirmed.event_id == again.event_id != created.event_id
    assert created.body == events.body_for(
        created.event_id, "appointment.created", clinic.id, {"n": 1}, now
    )
    assert (
        confirmed.body
        == again.body
        == events.body_for(confirmed.event_id, "appointment.confirmed", clinic.id, {"n": 2}, now)
    )


def test_a_request_is_created_then_confirmed_on_approval_or_cancelled_on_decline(
    allow_private, receiver, owner, doctor, patient
):
    doctor.requires_approval = True
    db.session.commit()
    register(owner, doctor.clinic_id, receiver.url)
    approved, declined = book(patient, doctor, days=3), book(patient, doctor, days=4)
    now = datetime.now(UTC)

    booking.approve_appointment(appointment_id=approved.id, actor_id=doctor.user_id, now=now)
    booking.reject_appointment(appointment_id=declined.id, actor_id=doctor.user_id, now=now)

    sent = [(r.headers["Carebook-Event"], r.body) for r in receiver.requests]
    assert [name for name, _ in sent] == [
        "appointment.created",
        "appointment.created",
        "appointment.confirmed",
        "appointment.cancelled",
    ]
    assert b'"status":"pending_approval"' in sent[0][1]
    assert f'"appointment_id":{approved.id}'.encode() in sent[2][1]
    assert b'"status":"rejected"' in sent[3][1] and b'"cancelled_by":"doctor"' in sent[3][1]
