"""Payments tests: the real `stripe` library over HTTP against localstripe, and the money
invariants checked after every test."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Role,
)
from app.services.payments import gateway, settle
from app.services.scheduling import booking
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_clinic, make_doctor, make_slot, make_user
from tests.integration.payments import localstripe


@pytest.fixture(scope="session")
def stripe_base():
    process, base = localstripe.start_localstripe()
    yield base
    localstripe.stop(process)


@pytest.fixture(autouse=True)
def stripe_config(app, stripe_base, monkeypatch):
    for key, value in localstripe.settings(stripe_base).items():
        monkeypatch.setitem(app.config, key, value)
    return app.config


@pytest.fixture(scope="session")
def payments_server(app, database_url, stripe_base):
    """The app under gunicorn, for webhooks that localstripe delivers over HTTP."""
    process, url = localstripe.start_server(database_url, stripe_base, TEST_SECRET_KEY)
    yield url
    localstripe.deliver_webhooks_to(stripe_base, None)
    localstripe.stop(process)


CHARGED = (AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


def assert_money_invariants() -> None:
    """No captured payment without a confirmed (or refunded) appointment; no charge before the
    visit is confirmed (a request awaiting approval holds an authorisation only); no confirmed
    card appointment without a captured payment; and the ledger agrees with Stripe."""
    db.session.rollback()
    for payment in db.session.scalars(select(Payment)):
        appointment = payment.appointment
        if payment.amount_captured > 0 and appointment.status not in CHARGED:
            assert payment.refund_target is not None, f"{payment.id}: money without appointment"
            assert payment.amount_refunded == payment.refund_target, f"{payment.id}: refund owed"
        if payment.stripe_payment_intent_id:
            intent = gateway.retrieve_intent(payment.stripe_payment_intent_id)
            assert payment.amount_captured == intent.amount_captured, payment.id
            assert payment.amount_refunded == intent.amount_refunded, payment.id
    card = (
        Appointment.payment_method == PaymentMethod.CARD,
        Appointment.fee_amount > 0,
    )
    for appointment in db.session.scalars(
        select(Appointment).where(*card, Appointment.status.in_(CHARGED))
    ):
        paid = db.session.scalar(
            select(Payment).where(
                Payment.appointment_id == appointment.id, Payment.amount_captured > 0
            )
        )
        assert paid is not None, f"appointment {appointment.id} confirmed without payment"
    for appointment in db.session.scalars(
        select(Appointment).where(*card, Appointment.status == AppointmentStatus.PENDING_APPROVAL)
    ):
        held = settle.live_payment(appointment.id)
        assert held is not None, f"request {appointment.id} without an authorisation"
        assert held.status is PaymentStatus.AUTHORIZED, f"request {appointment.id}: {held.status}"
        assert held.amount_captured == 0, f"request {appointment.id} charged before approval"
        intent = gateway.retrieve_intent(held.stripe_payment_intent_id)
        assert intent.status == "requires_capture", f"request {appointment.id}: {intent.status}"


@pytest.fixture(autouse=True)
def money_invariants(ctx, stripe_config):
    yield
    assert_money_invariants()


@pytest.fixture
def first_commit_fails(monkeypatch):
    """A context in which the next database commit fails (the database went away), as after
    a capture at Stripe; later commits go through."""

    @contextmanager
    def failing():
        real_commit = db.session.commit
        calls = []

        def commit():
            calls.append(1)
            if len(calls) == 1:
                raise OperationalError("COMMIT", {}, Exception("the database went away"))
            return real_commit()

        with monkeypatch.context() as patched:
            patched.setattr(db.session, "commit", commit)
            yield

    return failing


@pytest.fixture
def now():
    return datetime.now(UTC)


@pytest.fixture
def doctor(ctx):
    return make_doctor(clinic=make_clinic(cancellation_window_hours=24), fee_amount=12000)


@pytest.fixture
def patient(ctx):
    return make_user(Role.PATIENT)


@pytest.fixture
def slot(doctor):
    return make_slot(doctor, start=datetime.now(UTC).replace(microsecond=0) + timedelta(days=3))


@pytest.fixture
def hold(patient, slot, now):
    """A card hold with its PaymentIntent open."""
    return booking.book_card_appointment(
        patient_id=patient.id, slot_id=slot.id, notes=None, now=now
    )


@pytest.fixture
def authorize(stripe_base):
    """Card entered and confirmed in the browser (Stripe.js), before the page returns."""

    def run(checkout, number="4242424242424242"):
        intent_id = checkout.payment.stripe_payment_intent_id
        gateway.attach_card_token(intent_id, localstripe.card_token(stripe_base, number))
        return gateway.confirm_intent(intent_id)

    return run
