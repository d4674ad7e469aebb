"""A doctor who approves bookings: the card is authorised at checkout and charged only when the
doctor approves; a rejection, a cancellation or no answer in time releases the authorisation.
Against localstripe, with the money invariants (no charge before confirmation) after each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Notification, PaymentStatus, Role
from app.services.payments import cards, gateway, settle
from app.services.scheduling import booking, expiry, occupancy
from tests.factories import make_clinic, make_doctor, make_slot, make_user

S = AppointmentStatus
P = PaymentStatus


@pytest.fixture
def approver(ctx):
    return make_doctor(clinic=make_clinic(), fee_amount=5000, requires_approval=True)


@pytest.fixture
def request_(approver, patient, authorize, now):
    """A card request paid at checkout: authorised, awaiting the doctor."""
    slot = make_slot(approver, start=now.replace(microsecond=0) + timedelta(days=10))
    checkout = booking.book_card_appointment(
        patient_id=patient.id, slot_id=slot.id, notes=None, now=now
    )
    authorize(checkout)
    return cards.confirm_paid(appointment_id=checkout.appointment.id, actor_id=patient.id, now=now)


def _intent(appointment_id: int) -> gateway.Intent:
    return gateway.retrieve_intent(settle.latest_payment(appointment_id).stripe_payment_intent_id)


def _told(patient) -> list[str]:
    return db.session.scalars(
        select(Notification.kind).where(Notification.user_id == patient.id)
    ).all()


def test_paying_for_a_request_authorises_without_charging(request_):
    assert request_.status is S.PENDING_APPROVAL
    payment = settle.latest_payment(request_.id)
    assert (payment.status, payment.amount_captured) == (P.AUTHORIZED, 0)
    intent = _intent(request_.id)
    assert (intent.status, intent.amount_captured) == ("requires_capture", 0)


def test_confirming_the_request_again_still_charges_nothing(request_, patient, now):
    again = cards.confirm_paid(appointment_id=request_.id, actor_id=patient.id, now=now)
    assert again.status is S.PENDING_APPROVAL
    assert _intent(request_.id).amount_captured == 0


def test_the_reconciliation_job_leaves_a_waiting_request_authorised(request_, now):
    later = now + timedelta(hours=1)
    expiry.reconcile(now=later)
    db.session.refresh(request_)
    assert request_.status is S.PENDING_APPROVAL
    assert _intent(request_.id).status == "requires_capture"


def test_approval_charges_the_card_and_confirms_in_one_step(request_, approver, now):
    approved = booking.approve_appointment(
        appointment_id=request_.id, actor_id=approver.user_id, now=now
    )
    assert approved.status is S.CONFIRMED
    payment = settle.latest_payment(request_.id)
    assert (payment.status, payment.amount_captured) == (P.CAPTURED, 5000)
    assert _intent(request_.id).amount_captured == 5000


def test_rejection_releases_the_authorisation_and_tells_the_patient(
    request_, approver, patient, now
):
    booking.reject_appointment(appointment_id=request_.id, actor_id=approver.user_id, now=now)
    payment = settle.latest_payment(request_.id)
    assert (payment.status, payment.amount_captured, payment.amount_refunded) == (
        P.CANCELED,
        0,
        0,
    )
    assert _intent(request_.id).status == "canceled"
    assert "payment.released" in _told(patient)


def test_patient_cancelling_a_request_releases_the_authorisation(request_, patient, now):
    booking.cancel_appointment(appointment_id=request_.id, actor_id=patient.id, now=now)
    assert _intent(request_.id).status == "canceled"
    assert settle.latest_payment(request_.id).amount_captured == 0


def test_stripe_down_at_approval_keeps_the_request_pending(
    request_, approver, stripe_config, monkeypatch, now
):
    base = stripe_config["STRIPE_API_BASE"]
    monkeypatch.setitem(stripe_config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    with pytest.raises(settle.PaymentProviderUnavailable):
        booking.approve_appointment(appointment_id=request_.id, actor_id=approver.user_id, now=now)
    assert db.session.get(Appointment, request_.id).status is S.PENDING_APPROVAL
    monkeypatch.setitem(stripe_config, "STRIPE_API_BASE", base)
    assert _intent(request_.id).status == "requires_capture"
    approved = booking.approve_appointment(
        appointment_id=request_.id, actor_id=approver.user_id, now=now
    )
    assert approved.status is S.CONFIRMED


def test_database_failing_after_the_capture_refunds_and_cancels(
    request_, approver, patient, first_commit_fails, now
):
    with (
        first_commit_fails(),
        pytest.raises(settle.PaymentNotRecorded, match="approval could not be recorded"),
    ):
        booking.approve_appointment(appointment_id=request_.id, actor_id=approver.user_id, now=now)
    intent = _intent(request_.id)
    assert (intent.amount_captured, intent.amount_refunded) == (5000, 5000)
    assert db.session.get(Appointment, request_.id).status is S.CANCELLED
    assert "payment.not_recorded_refunded" in _told(patient)


def test_an_authorisation_ended_at_stripe_cancels_the_request(request_, approver, patient, now):
    gateway.cancel_intent(_intent(request_.id).id)  # Stripe let it lapse
    with pytest.raises(cards.RequestClosed):
        booking.approve_appointment(appointment_id=request_.id, actor_id=approver.user_id, now=now)
    appointment = db.session.get(Appointment, request_.id)
    assert appointment.status is S.CANCELLED
    assert settle.latest_payment(request_.id).status is P.CANCELED
    assert "payment.released" in _told(patient)


def test_a_request_unanswered_for_six_days_lapses_and_frees_its_slot(request_, patient, now):
    expiry.expire(now=now + timedelta(days=1))
    assert db.session.get(Appointment, request_.id).status is S.PENDING_APPROVAL

    later = now + occupancy.APPROVAL_WAIT + timedelta(minutes=1)
    report = expiry.expire(now=later)
    assert report.lapsed_requests == 1
    appointment = db.session.get(Appointment, request_.id)
    assert (appointment.status, appointment.cancellation_reason) == (
        S.CANCELLED,
        "not approved in time",
    )
    assert _intent(request_.id).status == "canceled"
    assert {"appointment.approval_lapsed", "payment.released"} <= set(_told(patient))
    # the slot is free again (its start is still ahead)
    other = make_user(Role.PATIENT)
    taken = booking.book_slot(
        patient_id=other.id,
        slot_id=appointment.slot_id,
        payment_method="cash",
        notes=None,
        now=later,
    )
    assert taken.status is S.PENDING_APPROVAL


def test_a_cash_request_lapses_when_its_visit_starts_unanswered(approver, patient, now):
    slot = make_slot(approver, start=now.replace(microsecond=0) + timedelta(hours=2))
    asked = booking.book_slot(
        patient_id=patient.id,
        slot_id=slot.id,
        payment_method="cash",
        notes=None,
        now=now,
        acknowledge_policy=True,  # two hours ahead: inside the clinic's no-change window
    )
    assert asked.status is S.PENDING_APPROVAL
    assert expiry.expire(now=now + timedelta(hours=1)).lapsed_requests == 0
    started = now + timedelta(hours=3)
    assert expiry.expire(now=started).lapsed_requests == 1
    assert db.session.get(Appointment, asked.id).status is S.CANCELLED


def test_the_pages_say_authorised_not_charged(client, auth, approver, patient, authorize, now):
    slot = make_slot(approver, start=now.replace(microsecond=0) + timedelta(days=10))
    checkout = booking.book_card_appointment(
        patient_id=patient.id, slot_id=slot.id, notes=None, now=now
    )
    auth.login(patient.email)
    page = client.get(f"/checkout/{checkout.appointment.id}").get_data(as_text=True)
    assert "Authorise USD 50.00" in page
    assert "charged when the doctor approves" in page

    authorize(checkout)
    cards.confirm_paid(appointment_id=checkout.appointment.id, actor_id=patient.id, now=now)
    done = client.get(f"/checkout/{checkout.appointment.id}/done").get_data(as_text=True)
    assert "awaiting the doctor" in done
    assert "USD 50.00 authorised, not charged" in done
    assert "Paid:" not in done
    mine = client.get(f"/appointments/{checkout.appointment.id}").get_data(as_text=True)
    assert "charged only when the doctor approves" in mine
