"""Cancelling, rescheduling, the doctor's decisions and the waitlist."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Role, WaitlistEntry
from tests.factories import make_appointment, make_doctor, make_slot, make_user
from tests.integration.api.helpers import assert_error, hours_ahead, iso

S = AppointmentStatus


def _post(client, path: str, headers: dict, **body):
    return client.post(f"/api/v1{path}", json=body or None, headers=headers)


def test_patient_cancels_before_the_policy_window(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(72)))  # window: 24 h

    response = _post(
        client, f"/appointments/{appointment.id}/cancel", bearer(appointment.patient), reason="Ill"
    )

    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["cancellation_reason"]) == ("cancelled", "Ill")
    assert body["cancelled_at"] is not None
    assert body["actions"] == ["rebook"]
    assert db.session.get(Appointment, appointment.id).status is S.CANCELLED


def test_cancel_needs_no_body(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(72)))
    response = client.post(
        f"/api/v1/appointments/{appointment.id}/cancel", headers=bearer(appointment.patient)
    )
    assert response.status_code == 200
    assert response.get_json()["cancellation_reason"] == "cancelled by patient"


def test_patient_cannot_cancel_inside_the_policy_window(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(5)))

    response = _post(client, f"/appointments/{appointment.id}/cancel", bearer(appointment.patient))

    assert "24 hours" in assert_error(response, 409, "policy_window_closed")["message"]
    assert db.session.get(Appointment, appointment.id).status is S.CONFIRMED


def test_the_doctor_may_cancel_inside_the_window(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(5)))
    response = _post(
        client, f"/appointments/{appointment.id}/cancel", bearer(appointment.doctor.user)
    )
    assert response.status_code == 200
    assert response.get_json()["cancellation_reason"] == "cancelled by clinic"


def test_cancelling_twice_is_a_409(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(72)), status=S.CANCELLED)
    response = _post(client, f"/appointments/{appointment.id}/cancel", bearer(appointment.patient))
    assert_error(response, 409, "invalid_status")


def test_reschedule_moves_to_the_new_slot_and_frees_the_old_one(client, bearer):
    doctor = make_doctor()
    old_slot = make_slot(doctor, start=hours_ahead(72))
    new_slot = make_slot(doctor, start=hours_ahead(96))
    appointment = make_appointment(old_slot)

    response = _post(
        client,
        f"/appointments/{appointment.id}/reschedule",
        bearer(appointment.patient),
        slot_id=new_slot.id,
    )

    assert response.status_code == 201
    moved = response.get_json()
    assert (moved["slot_id"], moved["start"]) == (new_slot.id, iso(new_slot.start_at))
    assert (moved["status"], moved["rescheduled_from_id"]) == ("confirmed", appointment.id)
    assert db.session.get(Appointment, appointment.id).status is S.CANCELLED
    listing = client.get(f"/api/v1/doctors/{doctor.id}/slots").get_json()["items"]
    assert {s["id"]: s["available"] for s in listing} == {old_slot.id: True, new_slot.id: False}


def test_reschedule_to_a_taken_slot_is_a_409_and_keeps_the_booking(client, bearer):
    doctor = make_doctor()
    appointment = make_appointment(make_slot(doctor, start=hours_ahead(72)))
    taken = make_slot(doctor, start=hours_ahead(96))
    make_appointment(taken)

    response = _post(
        client,
        f"/appointments/{appointment.id}/reschedule",
        bearer(appointment.patient),
        slot_id=taken.id,
    )

    assert_error(response, 409, "slot_unavailable")
    assert db.session.get(Appointment, appointment.id).status is S.CONFIRMED


@pytest.mark.parametrize("body", [{}, {"slot_id": "next"}, {"slot_id": -1}, {"when": "soon"}])
def test_bad_reschedule_input_is_a_422(client, bearer, body):
    appointment = make_appointment(make_slot(start=hours_ahead(72)))
    response = client.post(
        f"/api/v1/appointments/{appointment.id}/reschedule",
        json=body,
        headers=bearer(appointment.patient),
    )
    assert_error(response, 422)


def test_reschedule_to_another_doctor_is_refused(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(72)))
    elsewhere = make_slot(start=hours_ahead(96))
    response = _post(
        client,
        f"/appointments/{appointment.id}/reschedule",
        bearer(appointment.patient),
        slot_id=elsewhere.id,
    )
    assert_error(response, 422, "invalid_input")


def test_doctor_approves_or_rejects_bookings_that_await_approval(client, bearer):
    doctor = make_doctor(requires_approval=True)
    first = make_appointment(make_slot(doctor, start=hours_ahead(72)), status=S.PENDING_APPROVAL)
    second = make_appointment(make_slot(doctor, start=hours_ahead(96)), status=S.PENDING_APPROVAL)
    headers = bearer(doctor.user)
    assert (
        "approve"
        in client.get(f"/api/v1/appointments/{first.id}", headers=headers).get_json()["actions"]
    )

    approved = _post(client, f"/appointments/{first.id}/approve", headers)
    rejected = _post(client, f"/appointments/{second.id}/reject", headers, reason="Full")

    assert approved.get_json()["status"] == "confirmed"
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["cancellation_reason"] == "Full"
    assert_error(_post(client, f"/appointments/{first.id}/approve", headers), 409, "invalid_status")


def test_patients_cannot_approve_their_own_booking(client, bearer):
    doctor = make_doctor(requires_approval=True)
    appointment = make_appointment(
        make_slot(doctor, start=hours_ahead(72)), status=S.PENDING_APPROVAL
    )
    response = _post(client, f"/appointments/{appointment.id}/approve", bearer(appointment.patient))
    assert_error(response, 403)
    assert db.session.get(Appointment, appointment.id).status is S.PENDING_APPROVAL


@pytest.mark.parametrize(("path", "status"), [("complete", "completed"), ("no-show", "no_show")])
def test_doctor_records_the_outcome_once_the_visit_started(client, bearer, path, status):
    appointment = make_appointment(make_slot(start=hours_ahead(-1)))
    response = _post(
        client, f"/appointments/{appointment.id}/{path}", bearer(appointment.doctor.user)
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == status
    assert db.session.get(Appointment, appointment.id).status is S(status)


def test_no_outcome_before_the_visit(client, bearer):
    appointment = make_appointment(make_slot(start=hours_ahead(30)))
    response = _post(
        client, f"/appointments/{appointment.id}/complete", bearer(appointment.doctor.user)
    )
    assert_error(response, 409, "invalid_status")


def test_unknown_appointments_are_a_404_for_every_action(client, bearer):
    admin = bearer(make_user(Role.ADMIN))
    for action in ("cancel", "approve", "reject", "complete", "no-show"):
        assert_error(_post(client, f"/appointments/4242/{action}", admin), 404)
    assert_error(_post(client, "/appointments/4242/reschedule", admin, slot_id=1), 404)


def test_patient_joins_a_doctors_waitlist_once_per_day(client, bearer):
    doctor = make_doctor()
    patient = make_user(Role.PATIENT)
    day = (hours_ahead(24 * 5)).date().isoformat()

    first = _post(client, f"/doctors/{doctor.id}/waitlist", bearer(patient), day=day)
    again = _post(client, f"/doctors/{doctor.id}/waitlist", bearer(patient), day=day)

    assert first.status_code == 201
    entry = db.session.scalars(select(WaitlistEntry)).one()
    assert first.get_json() == {"id": entry.id, "doctor_id": doctor.id, "day": day}
    assert again.get_json() == first.get_json()


@pytest.mark.parametrize("day", ["2020-01-01", "2031-02-30", "soon", None, "9999-12-31"])
def test_bad_waitlist_days_are_a_422(client, bearer, day):
    doctor = make_doctor()
    response = _post(
        client, f"/doctors/{doctor.id}/waitlist", bearer(make_user(Role.PATIENT)), day=day
    )
    assert_error(response, 422)


def test_waitlist_is_for_patients_and_known_doctors(client, bearer):
    doctor = make_doctor()
    day = (hours_ahead(24 * 5)).date().isoformat()
    assert_error(_post(client, f"/doctors/{doctor.id}/waitlist", bearer(doctor.user), day=day), 403)
    patient = bearer(make_user(Role.PATIENT))
    assert_error(_post(client, "/doctors/4242/waitlist", patient, day=day), 404)
