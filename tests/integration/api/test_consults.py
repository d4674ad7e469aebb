"""On-demand consults through the API: asking, on call, accepting, withdrawing, expiring.

Cash consults here (no Stripe); the card hold is in tests/integration/payments and the race
of many doctors in tests/integration/test_consult_concurrency.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Consult,
    ConsultStatus,
    Notification,
    Role,
    Slot,
    SlotMode,
)
from app.services.consults import consults
from tests.factories import (
    make_appointment,
    make_clinic,
    make_doctor,
    make_slot,
    make_specialty,
    make_user,
)
from tests.integration.api.helpers import assert_error


@pytest.fixture
def specialty(ctx):
    return make_specialty("Dermatology", "dermatology")


@pytest.fixture
def patient(ctx):
    return make_user(Role.PATIENT)


def on_call_doctor(specialty, **fields):
    doctor = make_doctor(specialties=[specialty], on_call=True, **fields)
    return doctor


def ask(client, bearer, patient, specialty="dermatology", **body):
    payload = {
        "specialty": specialty,
        "reason": "A rash since this morning",
        "payment_method": "cash",
    }
    payload.update(body)
    return client.post("/api/v1/consults", json=payload, headers=bearer(patient))


def test_patient_asks_and_gets_a_waiting_consult(client, bearer, patient, specialty):
    response = ask(client, bearer, patient)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "waiting"
    assert body["specialty"]["slug"] == "dermatology"
    assert body["reason"] == "A rash since this morning"
    assert body["offered"] is True
    assert body["appointment_id"] is None
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)
    got = client.get(f"/api/v1/consults/{body['id']}", headers=bearer(patient))
    assert got.status_code == 200 and got.get_json()["status"] == "waiting"


def test_specialty_by_id_works_too(client, bearer, patient, specialty):
    assert ask(client, bearer, patient, specialty=specialty.id).status_code == 201


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"specialty": None}, 422),
        ({"specialty": ""}, 422),
        ({"specialty": True}, 422),
        ({"payment_method": "bitcoin"}, 422),
        ({"reason": "x" * 501}, 422),
        ({"specialty": "no-such-thing"}, 404),
        ({"specialty": 999999}, 404),
    ],
)
def test_bad_requests_are_refused_with_4xx(client, bearer, patient, specialty, body, status):
    response = ask(client, bearer, patient, **body)
    assert_error(response, status)
    assert db.session.scalar(select(func.count(Consult.id))) == 0


def test_card_consult_needs_card_payments_and_a_card(client, bearer, patient, specialty):
    # The test app has no Stripe: a card consult is refused and nothing is written.
    assert_error(
        ask(client, bearer, patient, payment_method="card"), 422, "payment_method_unavailable"
    )
    assert db.session.scalar(select(func.count(Consult.id))) == 0


def test_one_open_request_per_patient(client, bearer, patient, specialty):
    assert ask(client, bearer, patient).status_code == 201
    assert_error(ask(client, bearer, patient), 409, "consult_open")


def test_only_patients_ask(client, bearer, specialty):
    doctor = on_call_doctor(specialty)
    assert_error(ask(client, bearer, doctor.user), 403)


def test_on_call_switch(client, bearer, specialty):
    doctor = make_doctor(specialties=[specialty])
    response = client.post(
        "/api/v1/doctors/me/on-call", json={"on_call": True}, headers=bearer(doctor.user)
    )
    assert response.status_code == 200
    assert response.get_json() == {"doctor_id": doctor.id, "on_call": True}
    db.session.refresh(doctor)
    assert doctor.on_call is True
    off = client.post(
        "/api/v1/doctors/me/on-call", json={"on_call": False}, headers=bearer(doctor.user)
    )
    assert off.get_json()["on_call"] is False


def test_on_call_switch_refuses_bad_input_patients_and_unlisted_doctors(
    client, bearer, patient, specialty
):
    doctor = make_doctor(specialties=[specialty])
    assert_error(
        client.post(
            "/api/v1/doctors/me/on-call", json={"on_call": "yes"}, headers=bearer(doctor.user)
        ),
        422,
    )
    assert_error(
        client.post("/api/v1/doctors/me/on-call", json={"on_call": True}, headers=bearer(patient)),
        403,
    )
    unverified = make_doctor(specialties=[specialty], verified_at=None)
    assert_error(
        client.post(
            "/api/v1/doctors/me/on-call", json={"on_call": True}, headers=bearer(unverified.user)
        ),
        409,
        "not_listed",
    )


def test_on_call_doctors_of_the_specialty_list_it_others_do_not(client, bearer, patient, specialty):
    consult_id = ask(client, bearer, patient).get_json()["id"]
    mine = on_call_doctor(specialty)
    other = on_call_doctor(make_specialty())
    off = make_doctor(specialties=[specialty])

    listed = client.get("/api/v1/consults", headers=bearer(mine.user)).get_json()["items"]
    assert [c["id"] for c in listed] == [consult_id]
    assert client.get("/api/v1/consults", headers=bearer(other.user)).get_json()["items"] == []
    assert_error(client.get("/api/v1/consults", headers=bearer(off.user)), 403, "not_on_call")
    # Someone else's patient consult is not theirs to read.
    assert_error(client.get(f"/api/v1/consults/{consult_id}", headers=bearer(other.user)), 404)
    assert_error(
        client.get(f"/api/v1/consults/{consult_id}", headers=bearer(make_user(Role.PATIENT))), 404
    )


def test_accept_makes_a_confirmed_video_visit_starting_now(client, bearer, patient, specialty):
    consult_id = ask(client, bearer, patient).get_json()["id"]
    doctor = on_call_doctor(specialty)
    before = datetime.now(UTC)

    response = client.post(f"/api/v1/consults/{consult_id}/accept", headers=bearer(doctor.user))

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "confirmed"
    assert body["mode"] == "video"
    assert body["doctor"]["id"] == doctor.id
    assert body["patient"]["id"] == patient.id
    assert body["consult_id"] == consult_id
    assert body["visit_url"] == f"/visits/{body['id']}"
    start, end = (datetime.fromisoformat(body[k]) for k in ("start", "end"))
    assert before - timedelta(seconds=1) <= start <= datetime.now(UTC)
    assert end - start == timedelta(minutes=20)
    consult = db.session.get(Consult, consult_id)
    assert consult.status is ConsultStatus.ACCEPTED
    assert consult.accepted_by_id == doctor.id and consult.appointment_id == body["id"]
    # The patient reads where to go, and is told (the outbox).
    seen = client.get(f"/api/v1/consults/{consult_id}", headers=bearer(patient)).get_json()
    assert seen["status"] == "accepted" and seen["visit_url"] == f"/visits/{body['id']}"
    kinds = set(
        db.session.scalars(select(Notification.kind).where(Notification.user_id == patient.id))
    )
    assert "consult.accepted" in kinds


def test_second_accept_gets_409_consult_taken(client, bearer, patient, specialty):
    consult_id = ask(client, bearer, patient).get_json()["id"]
    first, second = on_call_doctor(specialty), on_call_doctor(specialty)
    assert (
        client.post(f"/api/v1/consults/{consult_id}/accept", headers=bearer(first.user)).status_code
        == 200
    )
    assert_error(
        client.post(f"/api/v1/consults/{consult_id}/accept", headers=bearer(second.user)),
        409,
        "consult_taken",
    )
    assert db.session.scalar(select(func.count(Appointment.id))) == 1


def test_accept_is_refused_off_call_in_another_specialty_and_to_patients(
    client, bearer, patient, specialty
):
    consult_id = ask(client, bearer, patient).get_json()["id"]
    off = make_doctor(specialties=[specialty])
    elsewhere = on_call_doctor(make_specialty())
    path = f"/api/v1/consults/{consult_id}/accept"

    assert_error(client.post(path, headers=bearer(off.user)), 403, "not_on_call")
    assert_error(client.post(path, headers=bearer(elsewhere.user)), 403, "wrong_specialty")
    assert_error(client.post(path, headers=bearer(make_user(Role.PATIENT))), 403)
    assert_error(client.post("/api/v1/consults/424242/accept", headers=bearer(off.user)), 404)
    assert db.session.get(Consult, consult_id).status is ConsultStatus.WAITING


def test_cash_consult_is_not_for_a_clinic_without_cash(client, bearer, patient, specialty):
    consult_id = ask(client, bearer, patient).get_json()["id"]
    card_only = on_call_doctor(specialty, clinic=make_clinic(accepts_cash=False))
    assert client.get("/api/v1/consults", headers=bearer(card_only.user)).get_json()["items"] == []
    assert_error(
        client.post(f"/api/v1/consults/{consult_id}/accept", headers=bearer(card_only.user)),
        403,
        "payment_method_unavailable",
    )


def test_patient_withdraws_while_waiting_only(client, bearer, patient, specialty):
    consult_id = ask(client, bearer, patient).get_json()["id"]
    stranger = make_user(Role.PATIENT)
    assert_error(
        client.post(f"/api/v1/consults/{consult_id}/cancel", headers=bearer(stranger)), 404
    )

    response = client.post(f"/api/v1/consults/{consult_id}/cancel", headers=bearer(patient))
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert_error(
        client.post(f"/api/v1/consults/{consult_id}/cancel", headers=bearer(patient)),
        409,
        "consult_closed",
    )
    doctor = on_call_doctor(specialty)
    assert_error(
        client.post(f"/api/v1/consults/{consult_id}/accept", headers=bearer(doctor.user)),
        409,
        "consult_closed",
    )
    # Withdrawn, the patient may ask again.
    assert ask(client, bearer, patient).status_code == 201


def test_an_accepted_consult_cannot_be_withdrawn(client, bearer, patient, specialty):
    consult_id = ask(client, bearer, patient).get_json()["id"]
    doctor = on_call_doctor(specialty)
    client.post(f"/api/v1/consults/{consult_id}/accept", headers=bearer(doctor.user))
    assert_error(
        client.post(f"/api/v1/consults/{consult_id}/cancel", headers=bearer(patient)),
        409,
        "consult_taken",
    )


def test_expiry_ends_unaccepted_requests_and_tells_the_patient(client, bearer, patient, specialty):
    consult_id = ask(client, bearer, patient).get_json()["id"]
    fresh = ask(client, bearer, make_user(Role.PATIENT)).get_json()["id"]
    doctor = on_call_doctor(specialty)

    assert consults.expire(now=datetime.now(UTC) + timedelta(minutes=5)) == (0, 0)
    assert consults.expire(now=datetime.now(UTC) + timedelta(minutes=11)) == (2, 0)

    assert db.session.get(Consult, consult_id).status is ConsultStatus.EXPIRED
    assert db.session.get(Consult, fresh).status is ConsultStatus.EXPIRED
    kinds = set(
        db.session.scalars(select(Notification.kind).where(Notification.user_id == patient.id))
    )
    assert "consult.expired" in kinds
    assert_error(
        client.post(f"/api/v1/consults/{consult_id}/accept", headers=bearer(doctor.user)),
        409,
        "consult_closed",
    )
    assert consults.expire(now=datetime.now(UTC) + timedelta(minutes=11)) == (0, 0)


def test_a_lapsed_request_cannot_be_accepted_before_the_job_runs(ctx, patient, specialty):
    now = datetime.now(UTC)
    consult = consults.request_consult(
        patient_id=patient.id, specialty="dermatology", reason=None, payment_method="cash", now=now
    )
    doctor = on_call_doctor(specialty)
    with pytest.raises(consults.ConsultClosed):
        consults.accept_consult(
            consult_id=consult.id, doctor_user_id=doctor.user_id, now=now + timedelta(minutes=10)
        )


def test_the_consult_slot_makes_room_among_the_doctors_slots(client, bearer, patient, specialty):
    doctor = on_call_doctor(specialty)
    now = datetime.now(UTC)
    # A free slot in progress (nobody can book it now) and the next slot in 12 minutes.
    current = make_slot(doctor, start=now - timedelta(minutes=10), minutes=20)
    nxt = make_slot(doctor, start=now + timedelta(minutes=12), minutes=30)
    current_id, next_start = current.id, nxt.start_at
    consult_id = ask(client, bearer, patient).get_json()["id"]

    response = client.post(f"/api/v1/consults/{consult_id}/accept", headers=bearer(doctor.user))

    assert response.status_code == 200, response.get_json()
    assert datetime.fromisoformat(response.get_json()["end"]) == next_start
    assert db.session.get(Slot, current_id) is None  # never used: removed
    slot = db.session.get(Slot, response.get_json()["slot_id"])
    assert slot.mode is SlotMode.VIDEO


def test_a_doctor_in_a_visit_is_busy(client, bearer, patient, specialty):
    doctor = on_call_doctor(specialty)
    now = datetime.now(UTC)
    make_appointment(make_slot(doctor, start=now - timedelta(minutes=5), minutes=30))
    consult_id = ask(client, bearer, patient).get_json()["id"]

    assert_error(
        client.post(f"/api/v1/consults/{consult_id}/accept", headers=bearer(doctor.user)),
        409,
        "doctor_busy",
    )
    assert db.session.get(Consult, consult_id).status is ConsultStatus.WAITING
    assert (
        db.session.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.status == AppointmentStatus.CONFIRMED
            )
        )
        == 1
    )


def test_the_periodic_job_the_timer_and_the_command_expire_lapsed_requests(
    runner, patient, specialty
):
    from app.background import run_periodic_once
    from workers import jobs

    def lapsed() -> Consult:
        return consults.request_consult(
            patient_id=patient.id,
            specialty="dermatology",
            reason=None,
            payment_method="cash",
            now=datetime.now(UTC) - timedelta(minutes=11),
        )

    consult = lapsed()
    assert jobs.expire_consults in jobs.PERIODIC and jobs.expire_consults.interval == 30
    assert jobs.expire_consults() == "expired 1 consult request(s), released 0 card hold(s)"
    assert db.session.get(Consult, consult.id).status is ConsultStatus.EXPIRED

    timed = lapsed()
    run_periodic_once()  # the embedded schedule of a server without Redis
    assert db.session.get(Consult, timed.id).status is ConsultStatus.EXPIRED

    again = lapsed()
    result = runner.invoke(args=["expire-consults"])
    assert result.exit_code == 0, result.output
    assert "Expired 1 consult request(s)" in result.output
    db.session.expire_all()
    assert db.session.get(Consult, again.id).status is ConsultStatus.EXPIRED


def test_live_events_reach_the_right_rooms_without_the_patients_details(
    patient, specialty, monkeypatch
):
    from app.services import realtime
    from app.services.consults import rules

    sent = []
    monkeypatch.setattr(
        rules.realtime, "publish", lambda room, event, payload: sent.append((room, event, payload))
    )
    mine, also_mine = on_call_doctor(specialty), on_call_doctor(specialty)
    off = make_doctor(specialties=[specialty])
    elsewhere = on_call_doctor(make_specialty())
    now = datetime.now(UTC)

    consult = consults.request_consult(
        patient_id=patient.id, specialty="dermatology", reason="Itchy", payment_method="cash",
        now=now,
    )  # fmt: skip

    to = {room: payload for room, event, payload in sent if event == "consult"}
    doctors = {realtime.user_room(d.user_id) for d in (mine, also_mine)}
    assert set(to) == doctors | {realtime.user_room(patient.id)}
    assert realtime.user_room(off.user_id) not in to
    assert realtime.user_room(elsewhere.user_id) not in to
    shown = to[realtime.user_room(mine.user_id)]
    assert set(shown) == {
        "id", "status", "specialty", "reason", "payment_method", "created_at", "expires_at"
    }  # fmt: skip
    assert shown["reason"] == "Itchy" and shown["status"] == "waiting"
    assert patient.name not in str(shown) and patient.email not in str(shown)

    sent.clear()
    appointment = consults.accept_consult(
        consult_id=consult.id, doctor_user_id=mine.user_id, now=now
    )

    to = {room: payload for room, event, payload in sent if event == "consult"}
    assert to[realtime.user_room(patient.id)] == {
        "id": consult.id,
        "status": "accepted",
        "appointment_id": appointment.id,
        "visit_url": f"/visits/{appointment.id}",
    }
    for room in doctors:
        assert to[room] == {"id": consult.id, "status": "accepted"}
