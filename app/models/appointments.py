"""Appointments: a patient's claim on a slot, from hold to visit."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.clinics import Doctor
from app.models.mixins import AuditColumns
from app.models.scheduling import Slot
from app.models.types import UTCDateTime, currency_column, enum_column
from app.models.users import User


class AppointmentStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PENDING_APPROVAL = "pending_approval"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


# The states that occupy a slot. The partial unique index below uses exactly this list; queries
# that want PostgreSQL to use it must repeat the same predicate (see ARCHITECTURE.md pitfalls).
ACTIVE_STATUSES = (
    AppointmentStatus.PENDING_PAYMENT,
    AppointmentStatus.PENDING_APPROVAL,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.COMPLETED,
)
_ACTIVE_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in ACTIVE_STATUSES))


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"


class Appointment(AuditColumns, db.Model):
    __tablename__ = "appointments"
    __table_args__ = (
        # One patient per slot: at most one active appointment references a slot.
        Index(
            "uq_appointments_active_slot",
            "slot_id",
            unique=True,
            postgresql_where=text(_ACTIVE_SQL),
            sqlite_where=text(_ACTIVE_SQL),
        ),
        CheckConstraint("fee_amount >= 0", name="fee_not_negative"),
        CheckConstraint(
            "status <> 'pending_payment' OR hold_expires_at IS NOT NULL",
            name="hold_has_expiry",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    slot_id: Mapped[int] = mapped_column(
        ForeignKey("slots.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus, "appointment_status"), nullable=False
    )
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    payment_method: Mapped[PaymentMethod] = mapped_column(
        enum_column(PaymentMethod, "payment_method"), nullable=False
    )
    fee_amount: Mapped[int] = mapped_column(nullable=False)  # snapshot, minor units
    fee_currency: Mapped[str] = mapped_column(currency_column(), nullable=False)
    rescheduled_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_reason: Mapped[str | None] = mapped_column(String(255))

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    doctor: Mapped[Doctor] = relationship()
    slot: Mapped[Slot] = relationship()
    rescheduled_from: Mapped[Appointment | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Appointment {self.id} slot={self.slot_id} {self.status}>"
