"""Stripe that hangs, seen through a FaultProxy in front of localstripe: the real stripe
library, STRIPE_TIMEOUT_SECONDS small. A stalled Stripe is a retryable error within the
timeout, the hold is kept, and the retry after the line is back captures once, also when the
capture reached Stripe and only its answer was lost.

Stripe refusing connections (nothing listening) is covered by payments/test_checkout.py; the
payments fixtures (localstripe, a card hold, the money invariants after each test) are used
from there.
"""

from __future__ import annotations

import time

import pytest

from app.extensions import db
from app.models import Appointment, AppointmentStatus, PaymentStatus
from app.services.payments import cards, gateway, settle
from tests.integration.payments.conftest import (  # noqa: F401 — fixtures of these tests
    authorize,
    doctor,
    hold,
    money_invariants,
    now,
    patient,
    slot,
    stripe_base,
    stripe_config,
)
from tests.integration.payments.test_checkout import captures

TIMEOUT = 2.0  # STRIPE_TIMEOUT_SECONDS in these tests
BOUND = 15.0  # a stalled call answers well within this (liveness, not a speed figure)


@pytest.fixture
def stripe_proxy(stripe_config, stripe_base, make_proxy, monkeypatch):  # noqa: F811
    """The app talks to localstripe through a proxy, waiting TIMEOUT for each answer; the
    direct line is put back before the money invariants are checked."""
    proxy = make_proxy(stripe_base)
    monkeypatch.setitem(stripe_config, "STRIPE_API_BASE", proxy.url(stripe_base))
    monkeypatch.setitem(stripe_config, "STRIPE_TIMEOUT_SECONDS", TIMEOUT)
    yield proxy
    proxy.restore()
    stripe_config["STRIPE_API_BASE"] = stripe_base


def _timed(fn, *args, **kwargs):
    started = time.monotonic()
    try:
        return fn(*args, **kwargs), time.monotonic() - started
    except Exception as exc:  # the caller asserts on what was raised
        return exc, time.monotonic() - started


def test_stalled_stripe_checkout_page_is_a_retryable_503_and_the_hold_stays(
    client,
    auth,
    hold,  # noqa: F811
    patient,  # noqa: F811
    stripe_proxy,
    authorize,  # noqa: F811
    now,  # noqa: F811
):
    appointment_id = hold.appointment.id
    held_until = hold.appointment.hold_expires_at
    auth.login(patient.email)
    stripe_proxy.stall()
    page, waited = _timed(client.get, f"/checkout/{appointment_id}")
    print(
        f"\n[faults] Stripe stalled: checkout page 503 after {waited:.2f} s (timeout {TIMEOUT:g})"
    )
    assert page.status_code == 503
    assert "try again" in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)
    assert TIMEOUT <= waited < BOUND

    token = auth.token(patient.email)
    url = f"/api/v1/appointments/{appointment_id}/confirm-payment"
    refused, waited = _timed(client.post, url, headers={"Authorization": f"Bearer {token}"})
    print(f"[faults] Stripe stalled: confirm-payment 503 after {waited:.2f} s")
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "payment_provider_unavailable"
    assert refused.headers["Retry-After"].isdigit()
    assert waited < BOUND
    appointment = db.session.get(Appointment, appointment_id)
    assert appointment.status is AppointmentStatus.PENDING_PAYMENT
    assert appointment.hold_expires_at == held_until  # kept until it lapses, not extended
    assert captures() == 0

    stripe_proxy.restore()
    authorize(hold)  # the payer's card, once Stripe answers again
    ok = client.post(url, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["status"] == "confirmed"
    payment = settle.latest_payment(appointment_id)
    assert (payment.status, payment.amount_captured) == (PaymentStatus.CAPTURED, 12000)
    assert captures() == 1


def test_capture_whose_answer_is_lost_is_not_captured_twice_on_the_retry(
    hold,  # noqa: F811
    patient,  # noqa: F811
    stripe_proxy,
    authorize,  # noqa: F811
    now,  # noqa: F811
):
    authorize(hold)
    appointment_id = hold.appointment.id
    intent_id = hold.payment.stripe_payment_intent_id
    stripe_proxy.stall(after=b"/capture")  # Stripe captures; the answer never comes back
    refused, waited = _timed(
        cards.confirm_paid, appointment_id=appointment_id, actor_id=patient.id, now=now
    )
    print(f"\n[faults] capture answer lost: PaymentProviderUnavailable after {waited:.2f} s")
    assert isinstance(refused, settle.PaymentProviderUnavailable), refused
    assert waited < BOUND
    appointment = db.session.get(Appointment, appointment_id)
    assert appointment.status is AppointmentStatus.PENDING_PAYMENT  # the hold stays
    stripe_proxy.restore()
    assert gateway.retrieve_intent(intent_id).amount_captured == 12000  # it did go through

    confirmed = cards.confirm_paid(appointment_id=appointment_id, actor_id=patient.id, now=now)
    assert confirmed.status is AppointmentStatus.CONFIRMED
    again = cards.confirm_paid(appointment_id=appointment_id, actor_id=patient.id, now=now)
    assert again.status is AppointmentStatus.CONFIRMED
    intent = gateway.retrieve_intent(intent_id)
    assert (intent.status, intent.amount_captured) == ("succeeded", 12000)
    payment = settle.latest_payment(appointment_id)
    assert (payment.status, payment.amount_captured) == (PaymentStatus.CAPTURED, 12000)
    assert captures() == 1
