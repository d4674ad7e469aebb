"""A doctor's month of visits in New York (UTC-4 in June), built row by row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    PaymentMethod,
    PaymentStatus,
    Refund,
    Review,
    Role,
    Slot,
    SlotStatus,
    User,
)
from tests.factories import make_appointment, make_clinic, make_doctor, make_payment, make_user

S = AppointmentStatus


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2031, 6, day, hour, minute, tzinfo=UTC)


def visit(
    doctor: Doctor,
    start: datetime,
    status: S = S.COMPLETED,
    *,
    patient: User | None = None,
    booked_hours_ahead: float = 48,
    method: PaymentMethod = PaymentMethod.CASH,
    reason: str | None = None,
    minutes: int = 30,
) -> Appointment:
    slot = Slot(doctor=doctor, start_at=start, end_at=start + timedelta(minutes=minutes))
    db.session.add(slot)
    db.session.commit()
    appointment = make_appointment(
        slot, patient or make_user(Role.PATIENT), status=status, payment_method=method
    )
    appointment.created_at = start - timedelta(hours=booked_hours_ahead)
    if status is S.CANCELLED:
        appointment.cancelled_at = start - timedelta(hours=1)
        appointment.cancellation_reason = reason or "changed plans"
    if status is S.PENDING_PAYMENT:
        appointment.hold_expires_at = start
    db.session.commit()
    return appointment


def open_slot(doctor: Doctor, start: datetime, minutes: int = 30, status=SlotStatus.OPEN):
    slot = Slot(doctor=doctor, start_at=start, end_at=start + timedelta(minutes=minutes))
    slot.status = status
    db.session.add(slot)
    db.session.commit()
    return slot


def review(appointment: Appointment, rating: int, created: datetime, *, hidden: bool = False):
    row = Review(
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        doctor_id=appointment.doctor_id,
        rating=rating,
        created_at=created,
        hidden_at=created if hidden else None,
        hidden_reason="spam" if hidden else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def refund(payment, amount: int, created: datetime) -> Refund:
    row = Refund(payment_id=payment.id, amount=amount, created_at=created)
    payment.amount_refunded += amount
    payment.status = PaymentStatus.PARTIALLY_REFUNDED
    db.session.add(row)
    db.session.commit()
    return row


@dataclass
class Month:
    doctor: Doctor
    other: Doctor
    regular: User


def june(doctor_name: str = "Dr. June") -> Month:
    """One New York doctor's June 2031 (and one of another doctor elsewhere):

    - 31 May 22:30 local (1 June 02:30 UTC): completed, the regular's first visit
    - 10 June: completed 10:00 (the regular again), no-show 11:00, cancelled 12:00
    - 11 June: confirmed 09:00 (card, paid 9000, 4000 refunded on 12 June), a moved visit
      (cancelled, reason rescheduled) 10:00, an abandoned hold 11:00, declined 14:00
    - open slots: 10 June 13:00 and 14:00 (free); blocked 15:00
    - reviews: 5 on 10 June, 3 on 11 June, a hidden 1 on 11 June
    """
    clinic = make_clinic(timezone="America/New_York")
    doctor = make_doctor(clinic=clinic, name=doctor_name)
    other = make_doctor(clinic=make_clinic(timezone="Europe/London"), name="Dr. Other")
    regular = make_user(Role.PATIENT, name="Regular")
    first = visit(doctor, at(1, 2, 30), patient=regular)
    second = visit(doctor, at(10, 14), patient=regular, booked_hours_ahead=2)
    no_show = visit(doctor, at(10, 15), S.NO_SHOW)
    visit(doctor, at(10, 16), S.CANCELLED)
    paid = visit(
        doctor, at(11, 13), S.CONFIRMED, method=PaymentMethod.CARD, booked_hours_ahead=24 * 10
    )
    visit(doctor, at(11, 14), S.CANCELLED, reason="rescheduled")
    visit(doctor, at(11, 15), S.EXPIRED)
    visit(doctor, at(11, 18), S.REJECTED)
    open_slot(doctor, at(10, 17))
    open_slot(doctor, at(10, 18))
    open_slot(doctor, at(10, 19), status=SlotStatus.BLOCKED)
    payment = make_payment(paid, captured_at=at(11, 12))
    refund(payment, 4000, at(12, 15))
    review(first, 5, at(10, 20))
    review(second, 3, at(11, 20))
    review(no_show, 1, at(11, 21), hidden=True)
    other_visit = visit(other, at(10, 14))
    make_payment(
        visit(other, at(10, 15), S.CONFIRMED, method=PaymentMethod.CARD), captured_at=at(10, 9)
    )
    review(other_visit, 2, at(10, 20))
    return Month(doctor, other, regular)
