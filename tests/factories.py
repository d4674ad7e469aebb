"""Test data builders: one per model, each commits and returns the row."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Doctor,
    Notification,
    NotificationChannel,
    NotificationStatus,
    PatientProfile,
    Payment,
    PaymentMethod,
    PaymentProvider,
    PaymentStatus,
    Review,
    Role,
    Slot,
    SlotMode,
    SlotStatus,
    Specialty,
    User,
)
from app.services.accounts.accounts import hash_password
from app.services.reviews import reviews

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)
_password_hash: str | None = None


def _hash() -> str:
    global _password_hash  # hashing argon2id once keeps the suite fast
    if _password_hash is None:
        _password_hash = hash_password(PASSWORD)
    return _password_hash


def make_user(role: Role = Role.PATIENT, *, email: str | None = None, **fields) -> User:
    n = next(_counter)
    user = User(
        email=email or f"{role.value}{n}@example.com",
        name=fields.pop("name", f"{role.value.title()} {n}"),
        role=role,
        password_hash=fields.pop("password_hash", _hash()),
        **fields,
    )
    db.session.add(user)
    if role is Role.PATIENT:
        db.session.add(PatientProfile(user=user))
    db.session.commit()
    return user


def make_clinic(**fields) -> Clinic:
    n = next(_counter)
    values = {
        "name": f"Clinic {n}",
        "city": "New York",
        "timezone": "America/New_York",
        "latitude": 40.71,
        "longitude": -74.0,
    }
    values.update(fields)
    clinic = Clinic(**values)
    db.session.add(clinic)
    db.session.commit()
    return clinic


def make_specialty(name: str | None = None, slug: str | None = None) -> Specialty:
    n = next(_counter)
    name = name or f"Practice {n}"
    specialty = Specialty(name=name, slug=slug or f"practice-{n}")
    db.session.add(specialty)
    db.session.commit()
    return specialty


def make_doctor(
    *,
    clinic: Clinic | None = None,
    fee_amount: int = 10000,
    specialties: list[Specialty] | None = None,
    **fields,
) -> Doctor:
    """A listed doctor by default (access.is_listed): verified, at a clinic, with a specialty
    of their own and a fee; pass verified_at=None, specialties=[], fee_amount=0 to unlist."""
    clinic = clinic or make_clinic()
    user = make_user(Role.DOCTOR, name=fields.pop("name", None) or f"Dr. {next(_counter)}")
    fields.setdefault("verified_at", datetime.now(UTC))
    doctor = Doctor(
        user=user,
        clinic=clinic,
        fee_amount=fee_amount,
        fee_currency=clinic.currency or "USD",
        specialties=[make_specialty()] if specialties is None else specialties,
        **fields,
    )
    db.session.add(doctor)
    db.session.commit()
    return doctor


def make_slot(
    doctor: Doctor | None = None,
    *,
    start: datetime | None = None,
    minutes: int = 30,
    mode: SlotMode = SlotMode.IN_PERSON,
    status: SlotStatus = SlotStatus.OPEN,
) -> Slot:
    doctor = doctor or make_doctor()
    start = start or (datetime.now(UTC) + timedelta(days=2)).replace(
        minute=0, second=0, microsecond=0
    )
    slot = Slot(
        doctor=doctor,
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        mode=mode,
        status=status,
    )
    db.session.add(slot)
    db.session.commit()
    return slot


def make_appointment(
    slot: Slot | None = None,
    patient: User | None = None,
    *,
    status: AppointmentStatus = AppointmentStatus.CONFIRMED,
    hold_expires_at: datetime | None = None,
    payment_method: PaymentMethod = PaymentMethod.CASH,
) -> Appointment:
    slot = slot or make_slot()
    patient = patient or make_user(Role.PATIENT)
    if status is AppointmentStatus.PENDING_PAYMENT and hold_expires_at is None:
        hold_expires_at = datetime.now(UTC) + timedelta(minutes=5)
    appointment = Appointment(
        patient=patient,
        doctor_id=slot.doctor_id,
        slot=slot,
        starts_at=slot.start_at,
        ends_at=slot.end_at,
        status=status,
        hold_expires_at=hold_expires_at,
        payment_method=payment_method,
        fee_amount=slot.doctor.fee_amount,
        fee_currency=slot.doctor.fee_currency,
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def make_payment(appointment: Appointment | None = None, **fields) -> Payment:
    """A card payment row as the ledger holds it (no PaymentIntent at Stripe behind it: for
    pages and reports; payment flows go through localstripe)."""
    appointment = appointment or make_appointment(payment_method=PaymentMethod.CARD)
    n = next(_counter)
    captured = fields.pop("amount_captured", appointment.fee_amount)
    values = {
        "appointment_id": appointment.id,
        "provider": PaymentProvider.STRIPE,
        "stripe_payment_intent_id": f"pi_test_{n}",
        "amount": appointment.fee_amount,
        "currency": appointment.fee_currency,
        "status": PaymentStatus.CAPTURED if captured else PaymentStatus.REQUIRES_PAYMENT,
        "amount_captured": captured,
        "amount_refunded": 0,
        "captured_at": datetime.now(UTC) if captured else None,
    }
    values.update(fields)
    payment = Payment(**values)
    db.session.add(payment)
    db.session.commit()
    return payment


def make_notification(
    user: User,
    kind: str = "appointment.approved",
    *,
    appointment: Appointment | None = None,
    channel: NotificationChannel = NotificationChannel.IN_APP,
    **fields,
) -> Notification:
    """A delivered notification row as the outbox writes it (in-app rows are "sent" when
    stored); `appointment` fills its data. For the inbox; flows go through outbox.notify."""
    n = next(_counter)
    now = datetime.now(UTC)
    values = {
        "user_id": user.id,
        "channel": channel,
        "kind": kind,
        "dedupe_key": f"test:{n}:{channel.value}",
        "data": {"appointment_id": appointment.id} if appointment is not None else {},
        "status": NotificationStatus.SENT,
        "created_at": now,
        "available_at": now,
        "sent_at": now,
    }
    values.update(fields)
    notification = Notification(**values)
    db.session.add(notification)
    db.session.commit()
    return notification


def make_outbox_row(
    user: User | None = None,
    *,
    kind: str = "account.password_changed",
    channel: NotificationChannel = NotificationChannel.EMAIL,
    status: NotificationStatus = NotificationStatus.PENDING,
    **fields,
) -> Notification:
    """An outbox row as delivery leaves it (failed: 3 attempts and an error, unless given).
    The default kind renders from no data, so a row can really be delivered."""
    user = user or make_user(Role.PATIENT)
    n = next(_counter)
    if status is NotificationStatus.FAILED:
        fields.setdefault("attempts", 3)
        fields.setdefault("last_error", "email failed: SMTPServerDisconnected")
    destination = {
        NotificationChannel.EMAIL: user.email,
        NotificationChannel.SMS: user.phone,
        NotificationChannel.IN_APP: None,
    }[channel]
    values = {
        "user_id": user.id,
        "kind": kind,
        "channel": channel,
        "status": status,
        "dedupe_key": f"test:{n}:{channel.value}",
        "data": {},
        "destination": destination,
    }
    values.update(fields)
    notification = Notification(**values)
    db.session.add(notification)
    db.session.commit()
    return notification


def make_completed_visit(
    doctor: Doctor | None = None, patient: User | None = None, *, days_ago: int = 3
) -> Appointment:
    """A visit in the past that the doctor marked completed (the one kind a patient reviews)."""
    # An hour apart from every other one built, so one doctor's visits never overlap.
    start = (datetime.now(UTC) - timedelta(days=days_ago, hours=next(_counter))).replace(
        minute=0, second=0, microsecond=0
    )
    slot = make_slot(doctor or make_doctor(), start=start)
    return make_appointment(slot, patient, status=AppointmentStatus.COMPLETED)


def make_review(
    appointment: Appointment | None = None,
    *,
    rating: int = 5,
    comment: str | None = "Kind and clear.",
    at: datetime | None = None,
) -> Review:
    """A review written through the service (so the doctor's rating totals follow)."""
    appointment = appointment or make_completed_visit()
    return reviews.write_review(
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        rating=rating,
        comment=comment,
        now=at or datetime.now(UTC),
    )
