"""Card checkout through the real stripe library against localstripe: accepted, declined,
3-D Secure, abandoned, confirmed twice, Stripe unreachable, the database failing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    AuditLog,
    Notification,
    PaymentMethod,
    PaymentStatus,
    Role,
    UserPermission,
)
from app.services.payments import cards, gateway, settle
from app.services.scheduling import booking
from tests.factories import make_user
from tests.integration.payments import localstripe

S = AppointmentStatus


def captures() -> int:
    return db.session.scalar(select(func.count()).where(AuditLog.action == "payment.captured"))


def test_card_hold_opens_a_manual_capture_intent(hold, now):
    assert hold.appointment.status is S.PENDING_PAYMENT
    assert hold.appointment.hold_expires_at > now
    block = hold.as_dict()
    assert block["payment_intent_id"].startswith("pi_")
    assert block["client_secret"].startswith(block["payment_intent_id"] + "_secret_")
    assert block["publishable_key"] == localstripe.PUBLISHABLE_KEY
    intent = gateway.retrieve_intent(block["payment_intent_id"])
    assert intent.status == "requires_payment_method"
    assert (intent.amount, intent.currency) == (12000, "USD")


def test_checkout_again_returns_the_same_intent(hold, patient, now):
    again = cards.begin_checkout(appointment_id=hold.appointment.id, patient_id=patient.id, now=now)
    assert again.payment.id == hold.payment.id
    assert again.client_secret == hold.client_secret


def test_accepted_card_is_captured_and_the_appointment_confirmed(hold, patient, stripe_base, now):
    token = localstripe.card_token(stripe_base, "4242424242424242")
    result = cards.pay_with_card(
        appointment_id=hold.appointment.id, patient_id=patient.id, card_token=token, now=now
    )
    assert result.status == "confirmed"
    appointment = db.session.get(Appointment, hold.appointment.id)
    assert appointment.status is S.CONFIRMED
    payment = settle.latest_payment(appointment.id)
    assert (payment.status, payment.amount_captured, payment.currency) == (
        PaymentStatus.CAPTURED,
        12000,
        "USD",
    )
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).status == "succeeded"


def test_declined_card_keeps_the_hold_and_another_card_pays(hold, patient, stripe_base, now):
    declined = localstripe.card_token(stripe_base, "4000000000000341")
    with pytest.raises(cards.CardDeclined, match="Your card was declined") as refused:
        cards.pay_with_card(
            appointment_id=hold.appointment.id, patient_id=patient.id, card_token=declined, now=now
        )
    # The hold's end in the clinic's zone (New York), as on the checkout page; not UTC.
    assert re.search(r"held until \d\d:\d\d E[SD]T\.", refused.value.message)
    appointment = db.session.get(Appointment, hold.appointment.id)
    assert appointment.status is S.PENDING_PAYMENT
    first = db.session.get(type(hold.payment), hold.payment.id)
    assert first.status is PaymentStatus.FAILED
    assert first.failure_message == "Your card was declined."

    good = localstripe.card_token(stripe_base, "4242424242424242")
    result = cards.pay_with_card(
        appointment_id=appointment.id, patient_id=patient.id, card_token=good, now=now
    )
    assert result.status == "confirmed"
    assert settle.latest_payment(appointment.id).amount_captured == 12000


def test_3d_secure_card_needs_the_payers_check_before_confirming(hold, patient, stripe_base, now):
    token = localstripe.card_token(stripe_base, "4000002500003155")
    result = cards.pay_with_card(
        appointment_id=hold.appointment.id, patient_id=patient.id, card_token=token, now=now
    )
    assert result.status == "requires_action"
    with pytest.raises(settle.PaymentIncomplete, match="bank"):
        cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)

    intent_id = hold.payment.stripe_payment_intent_id
    assert localstripe.authenticate_3ds(stripe_base, intent_id, result.client_secret, True) == (
        "requires_capture"
    )
    appointment = cards.confirm_paid(
        appointment_id=hold.appointment.id, actor_id=patient.id, now=now
    )
    assert appointment.status is S.CONFIRMED


def test_failed_3d_secure_check_is_a_decline_and_the_hold_stays(hold, patient, stripe_base, now):
    token = localstripe.card_token(stripe_base, "4000002500003155")
    result = cards.pay_with_card(
        appointment_id=hold.appointment.id, patient_id=patient.id, card_token=token, now=now
    )
    intent_id = hold.payment.stripe_payment_intent_id
    localstripe.authenticate_3ds(stripe_base, intent_id, result.client_secret, False)
    with pytest.raises(cards.CardDeclined, match="authentication"):
        cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    assert db.session.get(Appointment, hold.appointment.id).status is S.PENDING_PAYMENT


def test_second_confirm_changes_nothing(hold, patient, authorize, now):
    authorize(hold)
    first = cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    second = cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    assert first.status is second.status is S.CONFIRMED
    assert captures() == 1


def test_confirm_payment_api_confirms_once(client, auth, hold, patient, authorize):
    authorize(hold)
    token = auth.token(patient.email)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/appointments/{hold.appointment.id}/confirm-payment"
    first = client.post(url, headers=headers)
    second = client.post(url, headers=headers)
    assert first.status_code == second.status_code == 200, first.get_json()
    body = second.get_json()
    assert body["status"] == "confirmed"
    assert body["payment"]["amount_captured"] == 12000
    assert captures() == 1


def test_payment_api_gives_the_stripe_js_block(client, auth, hold, patient):
    headers = {"Authorization": f"Bearer {auth.token(patient.email)}"}
    response = client.get(f"/api/v1/appointments/{hold.appointment.id}/payment", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "pending_payment" and body["hold_expires_at"]
    assert body["payment"]["payment_intent_id"] == hold.payment.stripe_payment_intent_id
    assert body["payment"]["client_secret"] == hold.client_secret
    assert body["payment"]["publishable_key"] == localstripe.PUBLISHABLE_KEY


def test_strangers_cannot_confirm_someone_elses_payment(client, auth, hold):
    stranger = make_user(Role.PATIENT)
    headers = {"Authorization": f"Bearer {auth.token(stranger.email)}"}
    url = f"/api/v1/appointments/{hold.appointment.id}/confirm-payment"
    assert client.post(url, headers=headers).status_code == 404


@pytest.mark.parametrize("who", ["bookings.view", "bookings.manage", "doctor"])
def test_only_the_patient_or_payment_staff_trigger_a_capture(
    client, auth, hold, authorize, doctor, who
):
    authorize(hold)
    if who == "doctor":
        caller = doctor.user
    else:
        caller = make_user(Role.HELPER)
        caller.permissions.append(UserPermission(permission=who))
        db.session.commit()
    headers = {"Authorization": f"Bearer {auth.token(caller.email)}"}
    url = f"/api/v1/appointments/{hold.appointment.id}/confirm-payment"

    response = client.post(url, headers=headers)

    assert response.status_code == 403, response.get_json()
    assert captures() == 0
    assert gateway.retrieve_intent(hold.payment.stripe_payment_intent_id).amount_captured == 0
    assert db.session.get(Appointment, hold.appointment.id).status is S.PENDING_PAYMENT


def test_a_helper_with_payments_refund_may_confirm(client, auth, hold, authorize):
    authorize(hold)
    helper = make_user(Role.HELPER)
    helper.permissions.extend(
        UserPermission(permission=p) for p in ("bookings.view", "payments.refund")
    )
    db.session.commit()
    headers = {"Authorization": f"Bearer {auth.token(helper.email)}"}
    url = f"/api/v1/appointments/{hold.appointment.id}/confirm-payment"
    response = client.post(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "confirmed"


def test_abandoned_hold_releases_the_authorization(hold, patient, authorize, now):
    authorize(hold)
    booking.cancel_appointment(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    payment = settle.latest_payment(hold.appointment.id)
    assert payment.status is PaymentStatus.CANCELED
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).status == "canceled"


def test_stripe_unreachable_during_confirm_keeps_the_hold_and_a_retry_succeeds(
    hold, patient, authorize, stripe_config, monkeypatch, now
):
    authorize(hold)
    base = stripe_config["STRIPE_API_BASE"]
    monkeypatch.setitem(stripe_config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    with pytest.raises(settle.PaymentProviderUnavailable):
        cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    appointment = db.session.get(Appointment, hold.appointment.id)
    assert appointment.status is S.PENDING_PAYMENT and appointment.hold_expires_at > now
    assert settle.latest_payment(appointment.id).amount_captured == 0

    monkeypatch.setitem(stripe_config, "STRIPE_API_BASE", base)
    confirmed = cards.confirm_paid(appointment_id=appointment.id, actor_id=patient.id, now=now)
    assert confirmed.status is S.CONFIRMED


def test_stripe_unreachable_when_booking_releases_the_hold(
    patient, slot, stripe_config, monkeypatch, now
):
    monkeypatch.setitem(stripe_config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    with pytest.raises(settle.PaymentProviderUnavailable):
        booking.book_card_appointment(patient_id=patient.id, slot_id=slot.id, notes=None, now=now)
    other = make_user(Role.PATIENT)
    taken = booking.book_slot(
        patient_id=other.id, slot_id=slot.id, payment_method="cash", notes=None, now=now
    )
    assert taken.status is S.CONFIRMED


def test_database_failing_after_capture_refunds_and_frees_the_slot(
    hold, patient, slot, authorize, first_commit_fails, now
):
    authorize(hold)
    with first_commit_fails(), pytest.raises(settle.PaymentNotRecorded, match="refunded in full"):
        cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)

    intent = gateway.retrieve_intent(hold.payment.stripe_payment_intent_id)
    assert (intent.amount_captured, intent.amount_refunded) == (12000, 12000)
    appointment = db.session.get(Appointment, hold.appointment.id)
    assert appointment.status is S.CANCELLED
    payment = settle.latest_payment(appointment.id)
    assert payment.status is PaymentStatus.REFUNDED
    told = db.session.scalars(
        select(Notification.kind).where(Notification.user_id == patient.id)
    ).all()
    assert "payment.not_recorded_refunded" in told
    other = make_user(Role.PATIENT)
    taken = booking.book_slot(
        patient_id=other.id,
        slot_id=slot.id,
        payment_method=PaymentMethod.CASH,
        notes=None,
        now=now,
    )
    assert taken.status is S.CONFIRMED


def test_authorized_payment_after_the_hold_lapsed_confirms_if_the_slot_is_free(
    hold, patient, authorize, now
):
    authorize(hold)
    later = now + timedelta(minutes=10)
    appointment = cards.confirm_paid(
        appointment_id=hold.appointment.id, actor_id=patient.id, now=later
    )
    assert appointment.status is S.CONFIRMED


def test_authorized_payment_after_the_slot_was_taken_is_released(
    hold, patient, slot, authorize, now
):
    authorize(hold)
    later = now + timedelta(minutes=10)
    other = make_user(Role.PATIENT)
    booking.book_slot(
        patient_id=other.id, slot_id=slot.id, payment_method="cash", notes=None, now=later
    )
    with pytest.raises(cards.HoldLapsed, match="not been charged"):
        cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=later)
    payment = settle.latest_payment(hold.appointment.id)
    assert payment.status is PaymentStatus.CANCELED
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).status == "canceled"
