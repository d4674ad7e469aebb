"""Booking a slot from its confirm page: the happy path, a taken slot, bad input."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, PaymentMethod, Role
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user


def _soon(days: int = 3, hour: int = 15) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def _appointments() -> list[Appointment]:
    return list(db.session.scalars(select(Appointment).order_by(Appointment.id)))


@pytest.fixture
def patient(auth):
    user = make_user(Role.PATIENT, name="Ana Lima")
    auth.login(user.email)
    return user


def test_confirm_page_shows_the_visit_and_the_payment_choice(app, client, patient, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_configured")
    clinic = make_clinic(name="Harbor Health", timezone="America/New_York")
    doctor = make_doctor(clinic=clinic, name="Dr. Maya Chen", fee_amount=9000)
    slot = make_slot(doctor, start=datetime(2031, 3, 10, 13, 0, tzinfo=UTC))

    response = client.get(f"/book/{slot.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (
        "Dr. Maya Chen",
        "Harbor Health",
        "Mon 10 Mar 2031, 09:00 EDT",
        "USD 90.00",
        "Pay by card now",
        "Pay at the clinic (cash)",
        'name="notes"',
    ):
        assert text in page


def test_booking_creates_the_appointment_and_shows_it(client, patient):
    doctor = make_doctor(name="Dr. Maya Chen")
    slot = make_slot(doctor, start=_soon())

    response = client.post(
        f"/book/{slot.id}", data={"payment_method": "cash", "notes": "Knee pain"}
    )
    [appointment] = _appointments()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/appointments/{appointment.id}"
    assert (appointment.patient_id, appointment.slot_id) == (patient.id, slot.id)
    assert appointment.status is AppointmentStatus.CONFIRMED
    assert appointment.payment_method is PaymentMethod.CASH
    assert appointment.notes == "Knee pain"

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Booked: Dr. Maya Chen" in page
    assert "Confirmed" in page
    assert "Knee pain" in page
    listing = client.get("/appointments").get_data(as_text=True)
    assert f'href="/appointments/{appointment.id}"' in listing


def test_doctor_who_approves_bookings_gets_a_request(client, patient):
    slot = make_slot(make_doctor(requires_approval=True), start=_soon())
    response = client.post(f"/book/{slot.id}", data={"payment_method": "cash"})
    [appointment] = _appointments()
    assert appointment.status is AppointmentStatus.PENDING_APPROVAL
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Requested: awaiting the doctor&#39;s approval" in page


def test_second_patient_gets_409_for_taken_slot_with_alternatives(client, patient):
    doctor = make_doctor()
    taken = make_slot(doctor, start=_soon(hour=14))
    free = make_slot(doctor, start=_soon(hour=15))
    make_appointment(taken)  # someone else was quicker

    response = client.post(f"/book/{taken.id}", data={"payment_method": "cash"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Sorry, that slot was just taken." in page
    assert f'href="/book/{free.id}"' in page
    assert len(_appointments()) == 1


def test_overlapping_appointment_is_a_409_with_a_message(client, patient):
    start = _soon()
    make_appointment(make_slot(make_doctor(), start=start), patient)
    other = make_slot(make_doctor(), start=start)

    response = client.post(f"/book/{other.id}", data={"payment_method": "cash"})
    assert response.status_code == 409
    assert "You already have an appointment at that time." in response.get_data(as_text=True)
    assert len(_appointments()) == 1


def test_clinic_without_cash_says_so(client, patient):
    slot = make_slot(make_doctor(clinic=make_clinic(accepts_cash=False)), start=_soon())
    response = client.post(f"/book/{slot.id}", data={"payment_method": "cash"})
    assert response.status_code == 422
    assert "does not take cash" in response.get_data(as_text=True)
    assert _appointments() == []


def test_clinic_without_cash_offers_only_card(app, client, patient, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_configured")
    slot = make_slot(make_doctor(clinic=make_clinic(accepts_cash=False)), start=_soon())
    page = client.get(f"/book/{slot.id}").get_data(as_text=True)
    assert "Pay by card now" in page
    assert "Pay at the clinic" not in page


def test_without_a_payment_provider_card_is_not_offered_nor_taken(client, patient):
    # The test app has no Stripe configured: the page offers cash only, and a card booking
    # posted anyway gets a form error and holds nothing.
    slot = make_slot(make_doctor(), start=_soon())
    page = client.get(f"/book/{slot.id}").get_data(as_text=True)
    assert "Pay by card now" not in page
    cash = re.search(r'<input[^>]*value="cash"[^>]*>', page).group(0)
    assert "checked" in cash
    response = client.post(f"/book/{slot.id}", data={"payment_method": "card"})
    assert response.status_code == 422
    assert "Card payments are not available" in response.get_data(as_text=True)
    assert _appointments() == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"payment_method": "bitcoin"}, "Not a valid choice."),
        ({"payment_method": "cash", "notes": "x" * 2001}, "Field cannot be longer than 2000"),
    ],
)
def test_bad_booking_input_is_a_form_error(client, patient, data, message):
    slot = make_slot(make_doctor(), start=_soon())
    response = client.post(f"/book/{slot.id}", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _appointments() == []


def test_slot_that_has_started_cannot_be_booked(client, patient):
    slot = make_slot(make_doctor(), start=datetime.now(UTC) - timedelta(minutes=10))
    response = client.post(f"/book/{slot.id}", data={"payment_method": "cash"})
    assert response.status_code == 422
    assert "That slot has already started." in response.get_data(as_text=True)


def test_unknown_slot_is_a_404(client, patient):
    assert client.get("/book/999999").status_code == 404
    assert client.post("/book/999999", data={"payment_method": "cash"}).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in_and_comes_back(client):
    patient = make_user(Role.PATIENT)
    slot = make_slot(make_doctor(), start=_soon())
    response = client.get(f"/book/{slot.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=%2Fbook%2F{slot.id}"

    signed_in = client.post(
        f"/login?next=/book/{slot.id}",
        data={"email": patient.email, "password": "correct-horse-battery"},
    )
    assert signed_in.headers["Location"] == f"/book/{slot.id}"
    assert client.get(f"/book/{slot.id}").status_code == 200


def test_doctors_cannot_book(client, auth):
    slot = make_slot(make_doctor(), start=_soon())
    auth.login(make_user(Role.DOCTOR).email)
    assert client.get(f"/book/{slot.id}").status_code == 403
    assert client.post(f"/book/{slot.id}", data={"payment_method": "cash"}).status_code == 403


def test_too_many_upcoming_visits_with_one_doctor_is_a_409_with_a_message(client, patient):
    doctor = make_doctor()
    for day in (2, 3, 4):
        make_appointment(make_slot(doctor, start=_soon(days=day)), patient)
    slot = make_slot(doctor, start=_soon(days=5))

    response = client.post(f"/book/{slot.id}", data={"payment_method": "cash"})

    assert response.status_code == 409
    assert "3 upcoming appointments with this doctor" in response.get_data(as_text=True)
    assert len(_appointments()) == 3


def test_booking_is_rate_limited_per_user_across_page_and_api(make_app, database_url, ctx):
    from tests.conftest import AuthActions

    limited = make_app(database_url, RATELIMIT_ENABLED=True, BOOKING_RATE_LIMIT="3/hour")
    client = limited.test_client()
    user = make_user(Role.PATIENT)
    AuthActions(client).login(user.email)
    doctor = make_doctor()
    slots = [make_slot(doctor, start=_soon(days=day)) for day in (2, 3, 4, 5)]

    for slot in slots[:2]:
        assert client.post(f"/book/{slot.id}", data={"payment_method": "cash"}).status_code == 302
    token = AuthActions(client).token(user.email)
    api = client.post(
        "/api/v1/appointments",
        json={"slot_id": slots[2].id, "payment_method": "cash"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 201
    response = client.post(f"/book/{slots[3].id}", data={"payment_method": "cash"})

    assert response.status_code == 429
    assert "Too many bookings" in response.get_data(as_text=True)
    # Someone else is not held up by it.
    other = limited.test_client()
    AuthActions(other).login(make_user(Role.PATIENT).email)
    assert other.post(f"/book/{slots[3].id}", data={"payment_method": "cash"}).status_code == 302
