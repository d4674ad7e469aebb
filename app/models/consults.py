"""On-demand consults: a patient asks for an urgent video visit in a specialty, and the first
on-call doctor of that specialty to accept it gets it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.appointments import Appointment, PaymentMethod
from app.models.clinics import Doctor, Specialty
from app.models.mixins import AuditColumns
from app.models.types import SealedText, UTCDateTime, currency_column, enum_column
from app.models.users import User


class ConsultStatus(enum.StrEnum):
    WAITING = "waiting"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


_OPEN_SQL = "status = 'waiting'"


class Consult(AuditColumns, db.Model):
    __tablename__ = "consults"
    __table_args__ = (
        # One open request per patient: the database decides a double click.
        Index(
            "uq_consults_open_patient",
            "patient_id",
            unique=True,
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
        Index("ix_consults_status_specialty", "status", "specialty_id"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        # Accepted by a doctor, named in the same UPDATE that claims it (its appointment is
        # written later in that transaction); only an accepted consult has an appointment.
        CheckConstraint(
            "(status = 'accepted') = (accepted_by_id IS NOT NULL)", name="accepted_by_doctor"
        ),
        CheckConstraint(
            "appointment_id IS NULL OR status = 'accepted'", name="appointment_when_accepted"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    specialty_id: Mapped[int] = mapped_column(
        ForeignKey("specialties.id", ondelete="RESTRICT"), nullable=False
    )
    # Free text about the patient's health, sealed at rest; at most MAX_REASON characters
    # (checked by the service: the database holds ciphertext).
    reason: Mapped[str | None] = mapped_column(SealedText)
    payment_method: Mapped[PaymentMethod] = mapped_column(
        enum_column(PaymentMethod, "payment_method"), nullable=False
    )
    # The price, fixed at request (CONSULT_PRICE, CONSULT_CURRENCY): what a card hold is for.
    amount: Mapped[int] = mapped_column(nullable=False)
    currency: Mapped[str] = mapped_column(currency_column(), nullable=False)
    status: Mapped[ConsultStatus] = mapped_column(
        enum_column(ConsultStatus, "consult_status"), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # When on-call doctors started to see it: at once for cash, once the card hold stands.
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The card hold (a manual-capture PaymentIntent) until accept makes it a Payment row.
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # When the hold of a request that ended unaccepted was cancelled at Stripe.
    hold_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctors.id", ondelete="RESTRICT")
    )
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="RESTRICT"), unique=True
    )
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # expired or cancelled
    end_reason: Mapped[str | None] = mapped_column(String(255))

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    specialty: Mapped[Specialty] = relationship()
    accepted_by: Mapped[Doctor | None] = relationship()
    appointment: Mapped[Appointment | None] = relationship()

    def __repr__(self) -> str:
        return f"<Consult {self.id} {self.status}>"

    @property
    def is_open(self) -> bool:
        return self.status is ConsultStatus.WAITING
