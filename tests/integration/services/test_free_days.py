"""doctor_free_days (each doctor's free and held slots per clinic-local day, kept by triggers
on PostgreSQL) stays right through every change of a slot or of who occupies it: publishing,
holding, booking, paying is in tests/integration/payments/test_free_days_payments.py, expiry,
cancelling, rescheduling, approving, rejecting, blocking, moving, deleting, consults, a
doctor changing clinic and a clinic changing zone.

After each step the table is compared with the counts worked out here in Python from the
rows themselves (zoneinfo for the local day, not the database's time zones).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Clinic,
    Doctor,
    DoctorFreeDay,
    Role,
    Slot,
    SlotStatus,
)
from app.services import directory
from app.services.consults import consults
from app.services.scheduling import availability, booking
from tests.factories import make_clinic, make_doctor, make_specialty, make_user

S = AppointmentStatus
NOW = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)  # a Monday


def expected_counts() -> dict[tuple[int, date], tuple[int, int, datetime | None]]:
    """(doctor, local day) -> (free, held, latest free start), from slots and appointments."""
    occupant = dict(
        db.session.execute(
            select(Appointment.slot_id, Appointment.status).where(
                Appointment.status.in_(ACTIVE_STATUSES)
            )
        ).all()
    )
    free, held, latest = Counter(), Counter(), {}
    rows = db.session.execute(
        select(Slot.id, Slot.doctor_id, Slot.start_at, Slot.status, Clinic.timezone)
        .join(Doctor, Doctor.id == Slot.doctor_id)
        .join(Clinic, Clinic.id == Doctor.clinic_id)
    )
    for slot_id, doctor_id, start_at, status, tz in rows:
        if status is not SlotStatus.OPEN:
            continue
        key = (doctor_id, start_at.astimezone(ZoneInfo(tz)).date())
        who = occupant.get(slot_id)
        if who is None:
            free[key] += 1
            latest[key] = max(latest.get(key, start_at), start_at)
        elif who is S.PENDING_PAYMENT:
            held[key] += 1
    return {key: (free[key], held[key], latest.get(key)) for key in free.keys() | held.keys()}


def stored_counts() -> dict[tuple[int, date], tuple[int, int, datetime | None]]:
    return {
        (row.doctor_id, row.day): (row.free_slots, row.held_slots, row.last_free_at)
        for row in db.session.scalars(select(DoctorFreeDay))
        if row.free_slots or row.held_slots
    }


def assert_right() -> None:
    db.session.rollback()  # read what was committed, as another request would
    assert stored_counts() == expected_counts()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """`day` days after NOW's date, at hour:minute in New York."""
    local = datetime.combine(NOW.date() + timedelta(days=day), time(hour, minute))
    return local.replace(tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


@pytest.fixture
def people(ctx):
    specialty = make_specialty("Paediatrics", "paediatrics")
    ny = make_clinic(name="Harbor", timezone="America/New_York")
    tokyo = make_clinic(name="Ginza", city="Tokyo", timezone="Asia/Tokyo")
    doctor = make_doctor(clinic=ny, specialties=[specialty], on_call=True)
    other = make_doctor(clinic=tokyo, specialties=[specialty])
    patients = [make_user(Role.PATIENT) for _ in range(4)]
    return doctor, other, patients, ny, tokyo


def slot_of(doctor: Doctor, start: datetime) -> Slot:
    return db.session.scalars(
        select(Slot).where(Slot.doctor_id == doctor.id, Slot.start_at == start)
    ).one()


def test_free_days_stay_right_through_every_slot_change(people):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("kept by triggers on PostgreSQL only")
    doctor, other, patients, ny, tokyo = people
    actor = doctor.user_id
    first, second, third, fourth = patients

    # Publish: a weekly pattern (3 days x 8 slots, the evening ones on the next UTC day) and
    # single slots, one of them late in the evening.
    pattern = availability.WeeklyPattern(
        weekdays=frozenset({0, 1, 2}),
        day_start=time(17, 0),
        day_end=time(21, 0),
        slot_minutes=30,
        start_date=(NOW + timedelta(days=7)).date(),
        end_date=(NOW + timedelta(days=9)).date(),
    )
    availability.create_weekly_slots(doctor_id=doctor.id, pattern=pattern, actor_id=actor, now=NOW)
    assert_right()
    for start in (at(1, 9), at(1, 9, 30), at(1, 23, 30), at(2, 9)):
        availability.create_slot(
            doctor_id=doctor.id, start=start, end=start + timedelta(minutes=30),
            actor_id=actor, now=NOW,
        )  # fmt: skip
    availability.create_slot(
        doctor_id=other.id, start=at(1, 20), end=at(1, 20, 30), actor_id=other.user_id, now=NOW
    )
    assert_right()
    assert stored_counts()[(doctor.id, (NOW + timedelta(days=1)).date())] == (3, 0, at(1, 23, 30))

    def book(patient, start, method="cash", now=NOW):
        return booking.book_slot(
            patient_id=patient.id,
            slot_id=slot_of(doctor, start).id,
            payment_method=method,
            notes=None,
            now=now,
        )

    # Book (cash: confirmed) and hold (card: pending_payment).
    confirmed = book(first, at(1, 9))
    assert_right()
    held = book(second, at(1, 9, 30), method="card")
    assert held.status is S.PENDING_PAYMENT
    assert_right()
    assert stored_counts()[(doctor.id, (NOW + timedelta(days=1)).date())] == (1, 1, at(1, 23, 30))

    # The hold lapses and the clock's job expires it; a new hold is released by its patient.
    later = NOW + timedelta(minutes=10)
    assert booking.expire_lapsed_holds(now=later) == 1
    assert_right()
    again = book(second, at(1, 9, 30), method="card", now=later)
    assert_right()
    booking.release_hold(appointment_id=again.id, now=later, reason="changed my mind")
    assert_right()
    # A lapsed hold is expired by the next booking of its slot, in that booking's transaction.
    book(third, at(1, 9, 30), method="card", now=later)
    booking.book_slot(
        patient_id=fourth.id,
        slot_id=slot_of(doctor, at(1, 9, 30)).id,
        payment_method="cash",
        notes=None,
        now=later + timedelta(minutes=10),
    )
    assert_right()

    # Cancel and reschedule.
    booking.cancel_appointment(appointment_id=confirmed.id, actor_id=actor, now=NOW)
    assert_right()
    moved = book(first, at(1, 23, 30))
    booking.reschedule_appointment(
        appointment_id=moved.id, new_slot_id=slot_of(doctor, at(2, 9)).id, actor_id=actor, now=NOW
    )
    assert_right()

    # Requests awaiting approval: approved, rejected, lapsed.
    doctor.requires_approval = True
    db.session.commit()
    evening = sorted(
        db.session.scalars(
            select(Slot.start_at).where(Slot.doctor_id == doctor.id, Slot.start_at > at(6, 0))
        )
    )
    approved = book(second, evening[0])
    booking.approve_appointment(appointment_id=approved.id, actor_id=actor, now=NOW)
    assert_right()
    rejected = book(third, evening[1])
    assert_right()
    booking.reject_appointment(appointment_id=rejected.id, actor_id=actor, now=NOW)
    assert_right()
    book(fourth, evening[2])
    assert booking.expire_unanswered_requests(now=evening[2]) == 1
    assert_right()
    booking.record_outcome(
        appointment_id=approved.id, outcome=S.COMPLETED, actor_id=actor, now=evening[0]
    )
    assert_right()

    # Block and unblock, a free slot and a booked one; move a slot to another day; delete one.
    free_slot = slot_of(doctor, evening[3])
    booked_slot = slot_of(doctor, at(2, 9))
    for slot in (free_slot, booked_slot):
        availability.set_blocked(slot_id=slot.id, blocked=True, actor_id=actor)
        assert_right()
        availability.set_blocked(slot_id=slot.id, blocked=False, actor_id=actor)
        assert_right()
    availability.update_slot(
        slot_id=free_slot.id, actor_id=actor, now=NOW, start=at(3, 11), end=at(3, 11, 30)
    )
    assert_right()
    availability.delete_slot(slot_id=slot_of(doctor, evening[4]).id, actor_id=actor, now=NOW)
    assert_right()

    # An on-demand consult: a slot opened now and a visit confirmed on it.
    consult = consults.request_consult(
        patient_id=third.id, specialty="paediatrics", reason="Fever", payment_method="cash",
        now=NOW,
    )  # fmt: skip
    consults.accept_consult(consult_id=consult.id, doctor_user_id=actor, now=NOW)
    assert_right()

    # The doctor moves to the Tokyo clinic (their days are Tokyo's now), then Tokyo's clinic
    # changes its zone.
    admin = make_user(Role.ADMIN)
    directory.update_doctor(
        doctor.id,
        directory.DoctorInput(
            clinic_id=tokyo.id,
            specialty_ids=tuple(s.id for s in doctor.specialties),
            fee_amount=doctor.fee_amount,
        ),
        actor_id=admin.id,
        ip=None,
    )
    assert_right()
    clinic = db.session.get(Clinic, tokyo.id)
    clinic.timezone = "Pacific/Honolulu"
    db.session.commit()
    assert_right()
    assert {day for doctor_id, day in stored_counts() if doctor_id == other.id} == {
        (at(1, 20)).astimezone(ZoneInfo("Pacific/Honolulu")).date()
    }

    # Deleting a doctor's slots (a doctor without visits removed) takes their days with them.
    db.session.execute(Slot.__table__.delete().where(Slot.doctor_id == other.id))
    db.session.commit()
    assert_right()
    assert not any(doctor_id == other.id for doctor_id, _ in stored_counts())
