"""POST /webhooks/stripe: verified on the raw body, each event applied once, in any order."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, AuditLog, PaymentStatus, Role, StripeEvent
from app.services.payments import cards, gateway, settle
from app.services.scheduling import booking
from tests.factories import make_user
from tests.integration.payments import localstripe

S = AppointmentStatus
URL = "/webhooks/stripe"


def post_event(client, event_type, obj, **kwargs):
    body, signature = localstripe.signed_event(event_type, obj, **kwargs)
    return client.post(
        URL, data=body, headers={"Stripe-Signature": signature}, content_type="application/json"
    )


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize(
    "problem", ["missing header", "wrong secret", "stale timestamp", "tampered body"]
)
def test_bad_signatures_get_400_and_write_nothing(client, hold, authorize, problem):
    authorize(hold)
    obj = {"id": hold.payment.stripe_payment_intent_id, "object": "payment_intent"}
    kwargs = {}
    if problem == "wrong secret":
        kwargs["secret"] = "whsec_someone_else"
    if problem == "stale timestamp":
        kwargs["timestamp"] = int(time.time()) - 301
    body, signature = localstripe.signed_event(
        "payment_intent.amount_capturable_updated", obj, **kwargs
    )
    if problem == "tampered body":
        body = body.replace(b"amount_capturable_updated", b"succeeded")
    headers = {} if problem == "missing header" else {"Stripe-Signature": signature}
    response = client.post(URL, data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_webhook"
    assert count(StripeEvent) == 0
    assert db.session.get(Appointment, hold.appointment.id).status is S.PENDING_PAYMENT


def test_capturable_event_confirms_the_paid_hold(client, hold, authorize):
    authorize(hold)
    obj = {"id": hold.payment.stripe_payment_intent_id, "object": "payment_intent"}
    response = post_event(client, "payment_intent.amount_capturable_updated", obj)
    assert response.status_code == 200
    assert response.get_json()["result"] == "confirmed"
    assert db.session.get(Appointment, hold.appointment.id).status is S.CONFIRMED


def test_same_event_delivered_five_times_at_once_changes_state_once(app, hold, authorize):
    authorize(hold)
    obj = {"id": hold.payment.stripe_payment_intent_id, "object": "payment_intent"}
    body, signature = localstripe.signed_event(
        "payment_intent.amount_capturable_updated", obj, event_id="evt_same_five_times"
    )

    def deliver(_):
        return app.test_client().post(
            URL, data=body, headers={"Stripe-Signature": signature},
            content_type="application/json",
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(deliver, range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    results = sorted(r.get_json()["result"] for r in responses)
    assert results == ["confirmed"] + ["duplicate"] * 4
    assert count(StripeEvent) == 1
    assert count(AuditLog, AuditLog.action == "payment.captured") == 1
    assert db.session.get(Appointment, hold.appointment.id).status is S.CONFIRMED


def test_event_after_confirm_is_a_no_op(client, hold, patient, authorize, now):
    authorize(hold)
    cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    obj = {"id": hold.payment.stripe_payment_intent_id, "object": "payment_intent"}
    assert post_event(client, "payment_intent.succeeded", obj).get_json()["result"] == "confirmed"
    assert count(AuditLog, AuditLog.action == "payment.captured") == 1


def test_out_of_order_canceled_event_rereads_stripe(client, hold, patient, authorize, now):
    authorize(hold)
    cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    obj = {"id": hold.payment.stripe_payment_intent_id, "status": "canceled"}
    post_event(client, "payment_intent.canceled", obj)
    assert db.session.get(Appointment, hold.appointment.id).status is S.CONFIRMED
    assert settle.latest_payment(hold.appointment.id).status is PaymentStatus.CAPTURED


def test_success_after_the_hold_lapsed_and_the_slot_was_taken_refunds(
    client, hold, slot, authorize, now
):
    authorize(hold)
    intent_id = hold.payment.stripe_payment_intent_id
    gateway.capture_intent(intent_id)  # money taken at Stripe, the page never came back
    later = now + timedelta(minutes=6)
    booking.expire_lapsed_holds(now=later)
    other = make_user(Role.PATIENT)
    taken = booking.book_slot(
        patient_id=other.id, slot_id=slot.id, payment_method="cash", notes=None, now=later
    )
    response = post_event(client, "payment_intent.succeeded", {"id": intent_id})
    assert response.get_json()["result"] == "refunded"
    intent = gateway.retrieve_intent(intent_id)
    assert intent.amount_refunded == intent.amount_captured == 12000
    assert db.session.get(Appointment, hold.appointment.id).status is S.EXPIRED
    assert db.session.get(Appointment, taken.id).status is S.CONFIRMED
    assert settle.latest_payment(hold.appointment.id).status is PaymentStatus.REFUNDED


def test_refund_made_at_stripe_reaches_the_ledger(client, hold, patient, authorize, now):
    authorize(hold)
    cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    intent_id = hold.payment.stripe_payment_intent_id
    gateway.refund(intent_id=intent_id, amount=2000, idempotency_key="dashboard-refund")
    intent = gateway.retrieve_intent(intent_id)
    post_event(client, "charge.refunded", {"id": intent.charge_id, "payment_intent": intent_id})
    payment = settle.latest_payment(hold.appointment.id)
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 2000)
    assert [r.amount for r in payment.refunds] == [2000]


def test_dispute_opens_and_closes(client, hold, patient, authorize, now):
    authorize(hold)
    cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    intent = gateway.retrieve_intent(hold.payment.stripe_payment_intent_id)
    dispute = {"id": "dp_test_1", "charge": intent.charge_id, "status": "needs_response"}
    post_event(client, "charge.dispute.created", dispute)
    payment = settle.latest_payment(hold.appointment.id)
    assert (payment.status, payment.dispute_status) == (PaymentStatus.DISPUTED, "needs_response")
    post_event(client, "charge.dispute.closed", {**dispute, "status": "won"})
    payment = settle.latest_payment(hold.appointment.id)
    assert (payment.status, payment.dispute_status) == (PaymentStatus.CAPTURED, "won")


def test_a_late_dispute_update_does_not_reopen_a_closed_dispute(
    client, hold, patient, authorize, now
):
    authorize(hold)
    cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    intent = gateway.retrieve_intent(hold.payment.stripe_payment_intent_id)
    dispute = {"id": "dp_test_2", "charge": intent.charge_id, "status": "needs_response"}
    opened = int(time.time()) - 120
    post_event(client, "charge.dispute.created", dispute, timestamp=opened)
    post_event(client, "charge.dispute.closed", {**dispute, "status": "won"}, timestamp=opened + 60)

    # Stripe delivered the update (made before the close) last.
    late = post_event(
        client, "charge.dispute.updated", {**dispute, "status": "under_review"},
        timestamp=opened + 30,
    )  # fmt: skip

    assert late.status_code == 200
    payment = settle.latest_payment(hold.appointment.id)
    assert (payment.status, payment.dispute_status) == (PaymentStatus.CAPTURED, "won")
    # A newer event still applies (a won dispute can be reopened by Stripe only with news).
    post_event(
        client, "charge.dispute.updated", {**dispute, "status": "lost"}, timestamp=opened + 90
    )
    payment = settle.latest_payment(hold.appointment.id)
    assert (payment.status, payment.dispute_status) == (PaymentStatus.DISPUTED, "lost")


def test_a_dispute_update_in_the_same_second_as_the_close_does_not_reopen_it(
    client, hold, patient, authorize, now
):
    authorize(hold)
    cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    intent = gateway.retrieve_intent(hold.payment.stripe_payment_intent_id)
    dispute = {"id": "dp_test_3", "charge": intent.charge_id, "status": "needs_response"}
    second = int(time.time()) - 60
    post_event(client, "charge.dispute.closed", {**dispute, "status": "won"}, timestamp=second)
    post_event(client, "charge.dispute.updated", dispute, timestamp=second)
    payment = settle.latest_payment(hold.appointment.id)
    assert (payment.status, payment.dispute_status) == (PaymentStatus.CAPTURED, "won")


def test_unrelated_events_are_recorded_and_ignored(client):
    response = post_event(client, "customer.created", {"id": "cus_1"}, event_id="evt_other")
    assert response.get_json()["result"] == "ignored"
    again = post_event(client, "customer.created", {"id": "cus_1"}, event_id="evt_other")
    assert again.get_json()["result"] == "duplicate"


def test_events_delivered_by_localstripe_are_verified_and_applied(
    payments_server, stripe_base, hold, authorize
):
    localstripe.deliver_webhooks_to(stripe_base, f"{payments_server}/webhooks/stripe")
    try:
        authorize(hold)
        # Captured at Stripe but never recorded here: localstripe's payment_intent.succeeded
        # is what brings the appointment in line.
        gateway.capture_intent(hold.payment.stripe_payment_intent_id)
        deadline = time.monotonic() + 15
        while count(StripeEvent, StripeEvent.type == "payment_intent.succeeded") == 0:
            assert time.monotonic() < deadline, "localstripe delivered no event"
            time.sleep(0.2)
    finally:
        localstripe.deliver_webhooks_to(stripe_base, None)
    assert db.session.get(Appointment, hold.appointment.id).status is S.CONFIRMED
    assert settle.latest_payment(hold.appointment.id).status is PaymentStatus.CAPTURED
