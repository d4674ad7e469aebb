"""Appointments: a patient's claim on a slot, from hold to visit."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    func,
    literal_column,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.clinics import Doctor
from app.models.mixins import AuditColumns
from app.models.scheduling import Slot
from app.models.types import SealedText, UTCDateTime, currency_column, enum_column, utcnow
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


def occupies_slot(now: datetime):
    """SQL: the appointment holds its slot at `now` (a lapsed hold no longer does).

    Written as the partial unique index's own predicate plus a refinement, so that PostgreSQL
    can use that index (see ARCHITECTURE.md, known pitfalls).
    """
    return and_(
        Appointment.status.in_(ACTIVE_STATUSES),
        or_(
            Appointment.status != AppointmentStatus.PENDING_PAYMENT,
            Appointment.hold_expires_at > now,
        ),
    )


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
        # A patient holds no two active appointments that overlap in time (PostgreSQL; SQLite
        # gets triggers in the migration).
        ExcludeConstraint(
            ("patient_id", "="),
            (func.tstzrange(literal_column("starts_at"), literal_column("ends_at")), "&&"),
            name="ex_appointments_patient_no_overlap",
            using="gist",
            where=text(_ACTIVE_SQL),
        ).ddl_if(dialect="postgresql"),
        Index("ix_appointments_patient_starts_at", "patient_id", "starts_at"),
        Index("ix_appointments_doctor_starts_at", "doctor_id", "starts_at"),
        # The reports over every doctor read a range of visit times, from the index alone.
        Index(
            "ix_appointments_starts_at",
            "starts_at",
            postgresql_include=[
                "doctor_id",
                "patient_id",
                "status",
                "cancellation_reason",
                "ends_at",
                "created_at",
                "payment_method",
                "fee_amount",
                "fee_currency",
            ],
        ),
        # New or returning patients: an earlier completed visit of the same pair.
        Index(
            "ix_appointments_completed_pair",
            "patient_id",
            "doctor_id",
            "starts_at",
            postgresql_where=text("status = 'completed'"),
            sqlite_where=text("status = 'completed'"),
        ),
        # What a visit was moved to (the calendar invite follows the chain to the visit as it
        # is now), and the ON DELETE SET NULL of an appointment: a look-up, not a scan.
        Index(
            "ix_appointments_rescheduled_from_id",
            "rescheduled_from_id",
            postgresql_where=text("rescheduled_from_id IS NOT NULL"),
            sqlite_where=text("rescheduled_from_id IS NOT NULL"),
        ),
        CheckConstraint("fee_amount >= 0", name="fee_not_negative"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(
            "status <> 'pending_payment' OR hold_expires_at IS NOT NULL",
            name="hold_has_expiry",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="RESTRICT"), nullable=False
    )
    slot_id: Mapped[int] = mapped_column(
        ForeignKey("slots.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus, "appointment_status"), nullable=False
    )
    # The slot's times, copied: the patient-overlap rule and the lists read them directly.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was first confirmed (kept through a later cancellation): a visit that was once
    # confirmed opens the chat between its patient and doctor (services/chat).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The patient's booking note: health information, sealed at rest (models/types.py).
    notes: Mapped[str | None] = mapped_column(SealedText)
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

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


# The states an appointment reaches only through confirmation.
CONFIRMED_STATUSES = (
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)


@event.listens_for(Appointment.status, "set")
def _remember_confirmation(target: Appointment, value, _old, _initiator) -> None:
    # Every path to "confirmed" (a cash booking, a capture, an approval, a reschedule, the
    # builders of tests) sets the attribute: stamping it here cannot be forgotten by one.
    if value in CONFIRMED_STATUSES and target.confirmed_at is None:
        target.confirmed_at = utcnow()


class WaitlistEntry(db.Model):
    """A patient waiting for a free slot of a doctor on a day (in the clinic's zone)."""

    __tablename__ = "waitlist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("patient_id", "doctor_id", "day"),
        Index("ix_waitlist_entries_doctor_day", "doctor_id", "day"),
    )

    patient: Mapped[User] = relationship()
    doctor: Mapped[Doctor] = relationship()


class VisitNote(db.Model):
    """A doctor's private note on one appointment. The text is sealed (services/sealing.py):
    it is for the doctor only, never shown to the patient nor sent by the patient API."""

    __tablename__ = "visit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), nullable=False, index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body_sealed: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    appointment: Mapped[Appointment] = relationship()
    author: Mapped[User | None] = relationship()
