"""Card consults against localstripe: the hold is authorised at request, captured at accept
(the visit's payment), and released when the request expires or is withdrawn; a refused
card leaves nothing held and nothing open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AppointmentStatus,
    Consult,
    ConsultStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Role,
)
from app.services.accounts.tokens import issue_token
from app.services.consults import consults
from app.services.consults.rules import ConsultNotFound
from app.services.payments import gateway
from app.services.payments.cards import CardDeclined
from app.services.payments.settle import PaymentIncomplete
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_doctor, make_specialty, make_user
from tests.integration.payments import localstripe

DECLINED = "4000000000000341"
THREE_D_SECURE = "4000002500003155"


@pytest.fixture(autouse=True)
def specialty(ctx):
    return make_specialty("Paediatrics", "paediatrics")


@pytest.fixture
def doctor(specialty):
    return make_doctor(specialties=[specialty], on_call=True)


def ask_by_card(patient, stripe_base, number="4242424242424242", now=None) -> Consult:
    return consults.request_consult(
        patient_id=patient.id,
        specialty="paediatrics",
        reason="Fever",
        payment_method="card",
        card_token=localstripe.card_token(stripe_base, number),
        now=now or datetime.now(UTC),
    )


def test_card_consult_is_held_at_request_and_captured_at_accept(patient, doctor, stripe_base, app):
    consult = ask_by_card(patient, stripe_base)

    assert consult.status is ConsultStatus.WAITING and consult.offered_at is not None
    intent = gateway.retrieve_intent(consult.stripe_payment_intent_id)
    assert intent.status == "requires_capture"
    assert intent.amount == app.config["CONSULT_PRICE"] and intent.amount_captured == 0

    appointment = consults.accept_consult(
        consult_id=consult.id, doctor_user_id=doctor.user_id, now=datetime.now(UTC)
    )

    assert appointment.status is AppointmentStatus.CONFIRMED
    assert appointment.payment_method is PaymentMethod.CARD
    payment = db.session.scalar(select(Payment).where(Payment.appointment_id == appointment.id))
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.amount_captured == app.config["CONSULT_PRICE"]
    assert payment.stripe_payment_intent_id == consult.stripe_payment_intent_id
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).status == "succeeded"


def test_expiry_releases_the_card_hold(patient, stripe_base):
    consult = ask_by_card(patient, stripe_base)
    intent_id = consult.stripe_payment_intent_id

    expired, released = consults.expire(now=datetime.now(UTC) + timedelta(minutes=11))

    assert (expired, released) == (1, 1)
    consult = db.session.get(Consult, consult.id)
    assert consult.status is ConsultStatus.EXPIRED
    assert consult.hold_released_at is not None
    assert gateway.retrieve_intent(intent_id).status == "canceled"
    assert consults.expire(now=datetime.now(UTC) + timedelta(minutes=12)) == (0, 0)


def test_a_release_that_failed_is_retried_by_the_job(patient, stripe_base, monkeypatch, app):
    consult = ask_by_card(patient, stripe_base)
    intent_id = consult.stripe_payment_intent_id
    with monkeypatch.context() as patched:  # Stripe out of reach while the patient withdraws
        patched.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")
        app.extensions.pop("stripe_clients", None)
        consults.cancel_consult(consult_id=consult.id, patient_id=patient.id, now=datetime.now(UTC))
    app.extensions.pop("stripe_clients", None)
    assert db.session.get(Consult, consult.id).hold_released_at is None
    assert gateway.retrieve_intent(intent_id).status == "requires_capture"

    assert consults.expire(now=datetime.now(UTC)) == (0, 1)
    assert gateway.retrieve_intent(intent_id).status == "canceled"


def test_withdrawing_releases_the_card_hold(patient, stripe_base):
    consult = ask_by_card(patient, stripe_base)

    cancelled = consults.cancel_consult(
        consult_id=consult.id, patient_id=patient.id, now=datetime.now(UTC)
    )

    assert cancelled.status is ConsultStatus.CANCELLED
    assert cancelled.hold_released_at is not None
    assert gateway.retrieve_intent(consult.stripe_payment_intent_id).status == "canceled"


def test_a_declined_card_holds_nothing_and_leaves_no_open_request(patient, doctor, stripe_base):
    with pytest.raises(CardDeclined):
        ask_by_card(patient, stripe_base, DECLINED)

    (consult,) = db.session.scalars(select(Consult)).all()
    assert consult.status is ConsultStatus.CANCELLED
    assert consults.offered_consults(doctor_user_id=doctor.user_id, now=datetime.now(UTC)) == []
    # Another card works at once.
    assert ask_by_card(patient, stripe_base).status is ConsultStatus.WAITING


def test_3d_secure_card_reaches_doctors_only_after_the_banks_check(patient, doctor, stripe_base):
    consult = ask_by_card(patient, stripe_base, THREE_D_SECURE)

    assert consult.status is ConsultStatus.WAITING and consult.offered_at is None
    now = datetime.now(UTC)
    assert consults.offered_consults(doctor_user_id=doctor.user_id, now=now) == []
    with pytest.raises(ConsultNotFound):
        consults.accept_consult(consult_id=consult.id, doctor_user_id=doctor.user_id, now=now)
    check = consults.pending_card_check(consult_id=consult.id, patient_id=patient.id)
    assert check.client_secret
    with pytest.raises(PaymentIncomplete):  # the check is not done yet
        consults.confirm_card_check(consult_id=consult.id, patient_id=patient.id, now=now)

    intent_id = consult.stripe_payment_intent_id
    localstripe.authenticate_3ds(stripe_base, intent_id, check.client_secret, True)
    offered = consults.confirm_card_check(consult_id=consult.id, patient_id=patient.id, now=now)

    assert offered.offered_at is not None
    assert [c.id for c in consults.offered_consults(doctor_user_id=doctor.user_id, now=now)] == [
        consult.id
    ]
    appointment = consults.accept_consult(
        consult_id=consult.id, doctor_user_id=doctor.user_id, now=now
    )
    assert appointment.status is AppointmentStatus.CONFIRMED
    assert gateway.retrieve_intent(intent_id).status == "succeeded"


def test_a_failed_3d_secure_check_withdraws_the_request_and_holds_nothing(patient, stripe_base):
    consult = ask_by_card(patient, stripe_base, THREE_D_SECURE)
    check = consults.pending_card_check(consult_id=consult.id, patient_id=patient.id)
    localstripe.authenticate_3ds(
        stripe_base, consult.stripe_payment_intent_id, check.client_secret, False
    )

    with pytest.raises(CardDeclined):
        consults.confirm_card_check(
            consult_id=consult.id, patient_id=patient.id, now=datetime.now(UTC)
        )

    consult = db.session.get(Consult, consult.id)
    assert consult.status is ConsultStatus.CANCELLED
    assert consult.hold_released_at is not None
    assert gateway.retrieve_intent(consult.stripe_payment_intent_id).status == "canceled"
    assert ask_by_card(patient, stripe_base).status is ConsultStatus.WAITING


def test_an_unchecked_3d_secure_request_expires_and_is_released(patient, stripe_base):
    consult = ask_by_card(patient, stripe_base, THREE_D_SECURE)

    assert consults.expire(now=datetime.now(UTC) + timedelta(minutes=11)) == (1, 1)
    assert gateway.retrieve_intent(consult.stripe_payment_intent_id).status == "canceled"


def test_card_consult_through_the_api(client, doctor, stripe_base):
    patient = make_user(Role.PATIENT)
    headers = {"Authorization": "Bearer " + _token(patient)}
    response = client.post(
        "/api/v1/consults",
        json={
            "specialty": "paediatrics",
            "reason": None,
            "payment_method": "card",
            "card_token": localstripe.card_token(stripe_base, "4242424242424242"),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "waiting" and body["offered"] is True
    assert body["price"]["amount"] > 0
    assert body["payment"] is None  # authorised at once: nothing for the page to finish
    checked = client.post(
        "/api/v1/consults",
        json={
            "specialty": "paediatrics",
            "payment_method": "card",
            "card_token": localstripe.card_token(stripe_base, THREE_D_SECURE),
        },
        headers={"Authorization": "Bearer " + _token(make_user(Role.PATIENT))},
    )
    assert checked.status_code == 201, checked.get_json()
    assert checked.get_json()["offered"] is False
    assert checked.get_json()["payment"]["status"] == "requires_action"
    assert checked.get_json()["payment"]["client_secret"]
    missing = client.post(
        "/api/v1/consults",
        json={"specialty": "paediatrics", "payment_method": "card"},
        headers={"Authorization": "Bearer " + _token(make_user(Role.PATIENT))},
    )
    assert missing.status_code == 422 and missing.get_json()["error"]["code"] == "invalid_input"

    accepted = client.post(
        f"/api/v1/consults/{body['id']}/accept",
        headers={"Authorization": "Bearer " + _token(doctor.user)},
    )
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["payment_method"] == "card"


def _token(user) -> str:
    return issue_token(user, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=datetime.now(UTC))
