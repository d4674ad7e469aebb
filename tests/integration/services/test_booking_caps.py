"""Booking caps: one patient cannot book out a doctor's week (holds count; reschedules move)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.models import AppointmentStatus, Role
from app.services.scheduling import booking
from tests.factories import make_appointment, make_doctor, make_slot, make_user

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
S = AppointmentStatus


def _slot(doctor, hours: int):
    return make_slot(doctor, start=NOW + timedelta(hours=hours))


def _book(patient, slot):
    # The first slot is a day ahead, inside the default 24-hour window: accepted up front.
    return booking.book_slot(
        patient_id=patient.id,
        slot_id=slot.id,
        payment_method="cash",
        notes=None,
        now=NOW,
        acknowledge_policy=True,
    )


def test_a_fourth_upcoming_visit_with_one_doctor_is_refused(ctx):
    doctor, patient = make_doctor(), make_user(Role.PATIENT)
    for hours in (24, 48, 72):
        _book(patient, _slot(doctor, hours))

    with pytest.raises(booking.BookingLimitReached) as refused:
        _book(patient, _slot(doctor, 96))

    assert refused.value.status_code == 409
    assert refused.value.code == "booking_limit_reached"
    assert refused.value.details == {"limit": 3, "scope": "doctor"}
    # Another doctor is still bookable.
    assert _book(patient, _slot(make_doctor(), 96)).status is S.CONFIRMED


def test_live_holds_count_and_past_lapsed_or_cancelled_visits_do_not(ctx):
    doctor, patient = make_doctor(), make_user(Role.PATIENT)
    make_appointment(_slot(doctor, -48), patient, status=S.CONFIRMED)  # already past
    make_appointment(_slot(doctor, 24), patient, status=S.CANCELLED)
    make_appointment(
        _slot(doctor, 30), patient, status=S.PENDING_PAYMENT, hold_expires_at=NOW - timedelta(1)
    )
    make_appointment(
        _slot(doctor, 36), patient, status=S.PENDING_PAYMENT, hold_expires_at=NOW + timedelta(1)
    )
    _book(patient, _slot(doctor, 48))
    _book(patient, _slot(doctor, 72))

    with pytest.raises(booking.BookingLimitReached):
        _book(patient, _slot(doctor, 96))


def test_the_total_cap_holds_across_doctors(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ACTIVE_BOOKINGS", 4)
    patient = make_user(Role.PATIENT)
    for hours in (24, 48, 72, 96):
        _book(patient, _slot(make_doctor(), hours))

    with pytest.raises(booking.BookingLimitReached) as refused:
        _book(patient, _slot(make_doctor(), 120))
    assert refused.value.details == {"limit": 4, "scope": "total"}


def test_a_patient_at_the_cap_can_still_reschedule(ctx):
    doctor, patient = make_doctor(), make_user(Role.PATIENT)
    booked = [_book(patient, _slot(doctor, hours)) for hours in (24, 48, 72)]

    moved = booking.reschedule_appointment(
        appointment_id=booked[2].id,
        new_slot_id=_slot(doctor, 120).id,
        actor_id=patient.id,
        now=NOW,
    )

    assert moved.status is S.CONFIRMED
