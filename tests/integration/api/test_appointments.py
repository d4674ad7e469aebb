"""Booking and reading appointments through the API."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Role
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user
from tests.integration.api.helpers import assert_error, hours_ahead, iso


def _book(client, headers, slot, **extra):
    body = {"slot_id": slot.id, "payment_method": "cash", **extra}
    return client.post("/api/v1/appointments", json=body, headers=headers)


def test_patient_books_a_free_slot_and_sees_the_whole_appointment(client, bearer):
    doctor = make_doctor(name="Dr. Who", fee_amount=9000)
    slot = make_slot(doctor, start=hours_ahead(72))
    patient = make_user(Role.PATIENT, name="Pat")

    response = _book(client, bearer(patient), slot, notes="  Knee pain  ")

    assert response.status_code == 201
    appointment = db.session.scalars(select(Appointment)).one()
    assert response.get_json() == {
        "id": appointment.id,
        "status": "confirmed",
        "slot_id": slot.id,
        "doctor": {"id": doctor.id, "name": "Dr. Who"},
        "patient": {"id": patient.id, "name": "Pat"},
        "start": iso(slot.start_at),
        "end": iso(slot.end_at),
        "mode": "in_person",
        "payment_method": "cash",
        "fee": {"amount": 9000, "currency": "USD"},
        "hold_expires_at": None,
        "notes": "Knee pain",
        "rescheduled_from_id": None,
        "cancelled_at": None,
        "cancellation_reason": None,
        "clinic": {
            "id": doctor.clinic_id,
            "name": doctor.clinic.name,
            "timezone": "America/New_York",
        },
        "actions": ["cancel", "reschedule", "rebook"],
        "payment": None,
    }


def test_card_booking_without_a_payment_provider_is_refused_and_holds_nothing(client, bearer):
    # No Stripe is configured in this app; card bookings against localstripe, with their
    # payment block (and Stripe going down mid-booking), are tested in tests/integration/payments.
    slot = make_slot(start=hours_ahead(72))
    response = _book(client, bearer(make_user(Role.PATIENT)), slot, payment_method="card")
    assert_error(response, 422, "payment_method_unavailable")
    assert db.session.scalars(select(Appointment)).all() == []


def test_second_patient_gets_409_with_other_free_times(client, bearer):
    doctor = make_doctor()
    slot = make_slot(doctor, start=hours_ahead(72))
    other = make_slot(doctor, start=hours_ahead(96))
    assert _book(client, bearer(make_user(Role.PATIENT)), slot).status_code == 201

    response = _book(client, bearer(make_user(Role.PATIENT)), slot)

    error = assert_error(response, 409, "slot_unavailable")
    assert error["details"] == {
        "alternatives": [{"id": other.id, "start": iso(other.start_at), "end": iso(other.end_at)}]
    }
    assert len(db.session.scalars(select(Appointment)).all()) == 1


def test_only_patients_book(client, bearer):
    slot = make_slot(start=hours_ahead(72))
    assert_error(_book(client, bearer(slot.doctor.user), slot), 403)
    assert_error(_book(client, bearer(make_user(Role.ADMIN)), slot), 403)
    assert_error(_book(client, {}, slot), 401)


def test_cash_at_a_card_only_clinic_is_refused(client, bearer):
    slot = make_slot(make_doctor(clinic=make_clinic(accepts_cash=False)), start=hours_ahead(72))
    response = _book(client, bearer(make_user(Role.PATIENT)), slot)
    assert_error(response, 422, "payment_method_unavailable")


@pytest.mark.parametrize(
    "body",
    [
        {"slot_id": "abc", "payment_method": "cash"},
        {"slot_id": 1.5, "payment_method": "cash"},
        {"slot_id": 0, "payment_method": "cash"},
        {"slot_id": 10**20, "payment_method": "cash"},
        {"slot_id": None, "payment_method": "cash"},
        {"payment_method": "cash"},
        {"slot_id": 1, "payment_method": "bitcoin"},
        {"slot_id": 1, "payment_method": "cash", "notes": "x" * 2001},
        {"slot_id": 1, "payment_method": "cash", "tip": 5},
    ],
)
def test_bad_booking_input_is_a_422(client, bearer, body):
    make_slot(start=hours_ahead(72))
    response = client.post(
        "/api/v1/appointments", json=body, headers=bearer(make_user(Role.PATIENT))
    )
    assert_error(response, 422)


def test_booking_an_unknown_or_past_slot_is_refused(client, bearer):
    patient = bearer(make_user(Role.PATIENT))
    past = make_slot(start=hours_ahead(-3))
    assert_error(
        client.post("/api/v1/appointments", json={"slot_id": 4242, "payment_method": "cash"},
                    headers=patient),
        404,
        "slot_not_found",
    )  # fmt: skip
    assert_error(_book(client, patient, past), 422, "invalid_input")


def test_patients_list_only_their_own_appointments_newest_first(client, bearer):
    patient = make_user(Role.PATIENT)
    mine = [make_appointment(make_slot(start=hours_ahead(h)), patient) for h in (30, 60)]
    make_appointment(make_slot(start=hours_ahead(40)))  # someone else's

    response = client.get("/api/v1/appointments", headers=bearer(patient))

    body = response.get_json()
    assert response.status_code == 200
    assert [a["id"] for a in body["items"]] == [mine[1].id, mine[0].id]
    assert (body["page"], body["per_page"], body["total"]) == (1, 20, 2)


def test_admins_list_everyone_and_filter_by_status(client, bearer):
    make_appointment(make_slot(start=hours_ahead(30)))
    cancelled = make_appointment(
        make_slot(start=hours_ahead(40)), status=AppointmentStatus.CANCELLED
    )
    admin = bearer(make_user(Role.ADMIN))

    everyone = client.get("/api/v1/appointments", headers=admin).get_json()
    only_cancelled = client.get("/api/v1/appointments?status=cancelled", headers=admin).get_json()

    assert everyone["total"] == 2
    assert [a["id"] for a in only_cancelled["items"]] == [cancelled.id]


@pytest.mark.parametrize(
    "query", ["page=0", "per_page=0", "per_page=500", "page=x", "status=lost", "page=9" * 20]
)
def test_bad_list_paging_is_a_422(client, bearer, query):
    response = client.get(f"/api/v1/appointments?{query}", headers=bearer(make_user(Role.PATIENT)))
    assert_error(response, 422)


def test_another_patients_appointment_is_not_found(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(30)))
    nosy = bearer(make_user(Role.PATIENT))

    assert_error(client.get(f"/api/v1/appointments/{appointment.id}", headers=nosy), 404)
    assert_error(client.post(f"/api/v1/appointments/{appointment.id}/cancel", headers=nosy), 404)
    assert db.session.get(Appointment, appointment.id).status is AppointmentStatus.CONFIRMED


def test_the_patient_and_the_doctor_both_see_an_appointment(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(30)))
    for user in (appointment.patient, appointment.doctor.user):
        response = client.get(f"/api/v1/appointments/{appointment.id}", headers=bearer(user))
        assert response.status_code == 200
        assert response.get_json()["id"] == appointment.id


def test_reading_appointments_needs_a_token(client):
    assert_error(client.get("/api/v1/appointments"), 401)
    assert_error(client.get("/api/v1/appointments/1"), 401)


def test_too_many_upcoming_visits_is_a_409_booking_limit_reached(client, bearer):
    doctor = make_doctor()
    patient = make_user(Role.PATIENT)
    for hours in (30, 54, 78):
        make_appointment(make_slot(doctor, start=hours_ahead(hours)), patient)

    response = _book(client, bearer(patient), make_slot(doctor, start=hours_ahead(102)))

    body = assert_error(response, 409, "booking_limit_reached")
    assert body["details"] == {"limit": 3, "scope": "doctor"}


def test_booking_inside_the_no_change_window_needs_acknowledge_policy(client, bearer):
    doctor = make_doctor(clinic=make_clinic(cancellation_window_hours=24))
    slot = make_slot(doctor, start=hours_ahead(5))
    headers = bearer(make_user(Role.PATIENT))

    error = assert_error(_book(client, headers, slot), 422, "policy_not_acknowledged")
    assert "24 hours" in error["message"]
    assert db.session.scalars(select(Appointment)).all() == []
    assert _book(client, headers, slot, acknowledge_policy=True).status_code == 201
