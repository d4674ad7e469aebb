"""The data an API fuzzing run starts from: one clinic's doctors, slots, appointments in every
state, a payment, a conversation, notifications, reviews and consults, so that operations
taking an id are reached with ids that exist (and belong to the caller).

Built with tests/factories.py and, where the service keeps totals or rules of its own, the
service itself. `build_world` returns the sign-in details of the three fuzzed roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp

from app.models import AppointmentStatus, PaymentMethod, Role, SlotMode, SlotStatus
from app.services.chat import attachments, conversations, messages
from app.services.consults import consults
from app.services.payments import cards, gateway
from app.services.scheduling import booking
from tests.factories import (
    PASSWORD,
    make_appointment,
    make_clinic,
    make_completed_visit,
    make_doctor,
    make_notification,
    make_review,
    make_slot,
    make_specialty,
    make_user,
)
from tests.integration.payments import localstripe

ROLES = ("patient", "doctor", "admin")
_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    totp_secret: str | None = None

    def otp(self) -> str | None:
        return pyotp.TOTP(self.totp_secret).now() if self.totp_secret else None


def _hour(days: float, hour: int = 0) -> datetime:
    moment = datetime.now(UTC) + timedelta(days=days, hours=hour)
    return moment.replace(minute=0, second=0, microsecond=0)


def build_world(stripe_base: str) -> dict[str, Login]:
    """Seed the database (empty, migrated) and return each fuzzed role's login. Card
    payments go through the localstripe at `stripe_base` (the app is configured for it)."""
    now = datetime.now(UTC)
    specialty = make_specialty("Cardiology", "cardiology")
    clinic = make_clinic(name="Fuzz Clinic", accepts_cash=True, cancellation_window_hours=24)
    doctor = make_doctor(clinic=clinic, specialties=[specialty], name="Dr. Fuzz", on_call=True)
    other = make_doctor(clinic=clinic, specialties=[specialty], name="Dr. Other")
    patient = make_user(Role.PATIENT, email="patient@fuzz.example.com", name="Pat Fuzz")
    other_patient = make_user(Role.PATIENT, email="other@fuzz.example.com", name="Olive Other")
    admin_secret = pyotp.random_base32()  # admins need two-step sign-in: a real code is sent
    make_user(Role.ADMIN, email="admin@fuzz.example.com", name="Admin", totp_secret=admin_secret)

    # Open slots to book and to move to, over the next weeks, in person and by video.
    for day in range(2, 16):
        for hour in (9, 11, 14):
            mode = SlotMode.VIDEO if hour == 11 else SlotMode.IN_PERSON
            make_slot(doctor, start=_hour(day, hour), mode=mode)
            make_slot(other, start=_hour(day, hour))
    make_slot(doctor, start=_hour(3, 16), status=SlotStatus.BLOCKED)

    # Paid by card through localstripe, as Stripe.js and the confirm call would: refundable
    # (booked first: the service's cap on upcoming visits per doctor still lets it in).
    checkout = booking.book_card_appointment(
        patient_id=patient.id,
        slot_id=make_slot(doctor, start=_hour(28, 17)).id,
        notes=None,
        now=now,
    )
    intent_id = checkout.payment.stripe_payment_intent_id
    gateway.attach_card_token(intent_id, localstripe.card_token(stripe_base, "4242424242424242"))
    gateway.confirm_intent(intent_id)
    cards.confirm_paid(appointment_id=checkout.appointment.id, actor_id=patient.id, now=now)
    # The patient's appointments with the doctor, one or more in each state.
    upcoming = [
        make_appointment(make_slot(doctor, start=_hour(day, 17)), patient) for day in (20, 21, 22)
    ]
    make_appointment(make_slot(doctor, start=_hour(23, 17), mode=SlotMode.VIDEO), patient)
    for day in (24, 25):
        make_appointment(
            make_slot(doctor, start=_hour(day, 17)),
            patient,
            status=AppointmentStatus.PENDING_APPROVAL,
        )
    make_appointment(
        make_slot(doctor, start=_hour(26, 17)),
        patient,
        status=AppointmentStatus.PENDING_PAYMENT,
        payment_method=PaymentMethod.CARD,
    )
    make_appointment(
        make_slot(doctor, start=_hour(27, 17)), patient, status=AppointmentStatus.CANCELLED
    )
    # Started within the hour and confirmed: the doctor may complete it or mark a no-show.
    for hours_ago in (1, 2):
        start = (now - timedelta(hours=hours_ago)).replace(minute=0, second=0, microsecond=0)
        make_appointment(make_slot(doctor, start=start), patient)
    # Completed visits: some reviewed (to reply to, edit, hide), some still to review.
    reviewed = [make_completed_visit(doctor, patient, days_ago=days) for days in (2, 3)]
    for visit in reviewed:
        make_review(visit, rating=4, comment="Clear and kind.")
    for days in (4, 5):
        make_completed_visit(doctor, patient, days_ago=days)
    make_appointment(make_slot(other, start=_hour(20, 17)), other_patient)

    # A conversation with a few messages each way.
    conversation, _ = conversations.open_conversation(
        actor_id=patient.id, doctor_id=doctor.id, now=now
    )
    for n, sender in enumerate((patient, doctor.user, patient)):
        messages.send_message(
            conversation_id=conversation.id, sender_id=sender.id, body=f"Message {n}", now=now
        )
    # The newest message carries a file: the history's first item links to an attachment.
    messages.send_message(
        conversation_id=conversation.id,
        sender_id=doctor.user.id,
        body="Your results",
        upload=attachments.Upload(data=_PDF, filename="results.pdf"),
        now=now,
    )

    for user in (patient, doctor.user):
        for kind in ("appointment.approved", "appointment.cancelled"):
            make_notification(user, kind, appointment=upcoming[0])

    # A waiting consult (cash) that the on-call doctor may take, and one the patient withdrew.
    consults.request_consult(
        patient_id=other_patient.id,
        specialty=specialty.id,
        reason="Chest pain",
        payment_method=PaymentMethod.CASH,
        now=now,
    )
    consults.request_consult(
        patient_id=patient.id,
        specialty=specialty.id,
        reason="Palpitations",
        payment_method=PaymentMethod.CASH,
        now=now,
    )

    return {
        "patient": Login(patient.email, PASSWORD),
        "doctor": Login(doctor.user.email, PASSWORD),
        "admin": Login("admin@fuzz.example.com", PASSWORD, admin_secret),
    }
