"""Twenty on-call doctors accept one consult at the same instant, over HTTP against gunicorn
on PostgreSQL: exactly one gets the visit, the other nineteen a 409 consult_taken, and the
database holds exactly one appointment and one consult slot. Three rounds, each raced by the
doctors not already in a visit (20, 19, 18)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.models import Appointment, Consult, ConsultStatus, Role, Slot
from tests.factories import make_doctor, make_specialty, make_user
from tests.integration.test_booking_concurrency import (
    assert_no_server_errors,
    fire_together,
    token_for,
)

DOCTORS = 20
ROUNDS = 3


def test_twenty_doctors_accepting_one_consult_make_exactly_one_visit(live_server, ctx):
    specialty = make_specialty("Urgent care", "urgent-care")
    doctors = [make_doctor(specialties=[specialty], on_call=True) for _ in range(DOCTORS)]
    doctor_tokens = {token_for(d.user): d.id for d in doctors}
    patients = [(p.id, token_for(p)) for p in (make_user(Role.PATIENT) for _ in range(ROUNDS))]
    busy: set[int] = set()

    for patient_id, patient_token in patients:
        asked = fire_together(
            live_server,
            [
                (
                    patient_token,
                    "/api/v1/consults",
                    {"specialty": "urgent-care", "reason": "race", "payment_method": "cash"},
                )
            ],
        )[0]
        assert asked.status == 201, asked
        consult_id = asked.body["id"]

        # The doctors not in a visit yet: an earlier round's winner is in one, and would be
        # refused as busy (409 doctor_busy) rather than as late.
        racing = {t: d for t, d in doctor_tokens.items() if d not in busy}
        replies = fire_together(
            live_server,
            [(token, f"/api/v1/consults/{consult_id}/accept", {}) for token in racing],
        )

        assert_no_server_errors(replies)
        assert Counter(r.status for r in replies) == {200: 1, 409: len(racing) - 1}, replies
        assert {r.code for r in replies if r.status == 409} == {"consult_taken"}
        (won,) = [r for r in replies if r.status == 200]
        winner = [racing[t] for t, r in zip(racing, replies, strict=True) if r is won]
        busy.add(winner[0])
        consult = db.session.get(Consult, consult_id)
        assert consult.status is ConsultStatus.ACCEPTED
        assert consult.appointment_id == won.body["id"]
        assert consult.accepted_by_id == won.body["doctor"]["id"] == winner[0]
        visits = db.session.scalars(
            select(Appointment).where(Appointment.patient_id == patient_id)
        ).all()
        assert [a.id for a in visits] == [won.body["id"]]
        assert visits[0].status.value == "confirmed"
        db.session.remove()

    # One slot per visit, each on its winner's calendar; nobody else got a slot.
    assert db.session.scalar(select(func.count(Slot.id))) == ROUNDS
    assert db.session.scalar(select(func.count(Appointment.id))) == ROUNDS
