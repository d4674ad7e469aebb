"""The database itself guards the booking invariants (PostgreSQL and SQLite)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Role, Slot, User
from tests.factories import make_appointment, make_doctor, make_slot, make_user

START = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


def insert_fails(obj) -> bool:
    db.session.add(obj)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return True
    return False


def second_appointment(slot: Slot, status=AppointmentStatus.CONFIRMED) -> Appointment:
    return Appointment(
        patient=make_user(Role.PATIENT),
        doctor_id=slot.doctor_id,
        slot_id=slot.id,
        starts_at=slot.start_at,
        ends_at=slot.end_at,
        status=status,
        payment_method="cash",
        fee_amount=0,
        fee_currency="USD",
        hold_expires_at=START if status is AppointmentStatus.PENDING_PAYMENT else None,
    )


@pytest.mark.parametrize(
    "status",
    [
        AppointmentStatus.PENDING_PAYMENT,
        AppointmentStatus.PENDING_APPROVAL,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.COMPLETED,
    ],
)
def test_second_active_appointment_on_a_slot_is_refused(any_db, status):
    slot = make_slot(start=START)
    make_appointment(slot, status=AppointmentStatus.CONFIRMED)
    assert insert_fails(second_appointment(slot, status))
    assert db.session.query(Appointment).count() == 1


def test_cancelled_and_expired_appointments_free_the_slot(any_db):
    slot = make_slot(start=START)
    make_appointment(slot, status=AppointmentStatus.CANCELLED)
    make_appointment(slot, status=AppointmentStatus.EXPIRED)
    assert not insert_fails(second_appointment(slot))
    assert db.session.query(Appointment).count() == 3


def test_overlapping_slots_of_one_doctor_are_refused(any_db):
    doctor = make_doctor()
    make_slot(doctor, start=START, minutes=30)
    overlapping = Slot(
        doctor_id=doctor.id,
        start_at=START + timedelta(minutes=15),
        end_at=START + timedelta(minutes=45),
    )
    assert insert_fails(overlapping)


def test_back_to_back_slots_and_other_doctors_are_fine(any_db):
    doctor = make_doctor()
    make_slot(doctor, start=START, minutes=30)
    make_slot(doctor, start=START + timedelta(minutes=30), minutes=30)
    make_slot(make_doctor(), start=START + timedelta(minutes=10), minutes=30)
    assert db.session.query(Slot).count() == 3


def test_moving_a_slot_onto_another_is_refused(any_db):
    doctor = make_doctor()
    make_slot(doctor, start=START)
    later = make_slot(doctor, start=START + timedelta(hours=2))
    later.start_at = START + timedelta(minutes=20)
    later.end_at = START + timedelta(minutes=50)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_slot_must_end_after_it_starts(any_db):
    doctor = make_doctor()
    assert insert_fails(Slot(doctor_id=doctor.id, start_at=START, end_at=START))


def test_emails_are_unique_whatever_the_case(any_db):
    make_user(Role.PATIENT, email="ana@example.com")
    assert insert_fails(
        User(email="Ana@Example.com", name="Ana", role=Role.PATIENT)
    )  # upper case is refused by the lower-case check
    assert insert_fails(User(email="ana@example.com", name="Ana 2", role=Role.PATIENT))


def test_pending_payment_needs_a_hold_expiry(any_db):
    slot = make_slot(start=START)
    appointment = second_appointment(slot, AppointmentStatus.PENDING_PAYMENT)
    appointment.hold_expires_at = None
    assert insert_fails(appointment)
