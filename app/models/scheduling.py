"""Availability: a doctor's bookable slots."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.clinics import Doctor
from app.models.mixins import AuditColumns
from app.models.types import UTCDateTime, enum_column


class SlotMode(enum.StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


class SlotStatus(enum.StrEnum):
    OPEN = "open"
    BLOCKED = "blocked"


class Slot(AuditColumns, db.Model):
    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("doctor_id", "start_at"),
        CheckConstraint("end_at > start_at", name="end_after_start"),
        # Slots by time (search by day; the reports' utilisation reads it alone).
        Index(
            "ix_slots_start_at", "start_at", postgresql_include=["doctor_id", "status", "end_at"]
        ),
        # PostgreSQL refuses overlapping slots of one doctor itself; SQLite gets a trigger in
        # the migration instead (see migrations/versions).
        ExcludeConstraint(
            ("doctor_id", "="),
            (func.tstzrange(literal_column("start_at"), literal_column("end_at")), "&&"),
            name="ex_slots_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), nullable=False
    )
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    mode: Mapped[SlotMode] = mapped_column(
        enum_column(SlotMode, "slot_mode"), nullable=False, default=SlotMode.IN_PERSON
    )
    status: Mapped[SlotStatus] = mapped_column(
        enum_column(SlotStatus, "slot_status"), nullable=False, default=SlotStatus.OPEN
    )

    doctor: Mapped[Doctor] = relationship()

    def __repr__(self) -> str:
        return f"<Slot {self.id} doctor={self.doctor_id} {self.start_at:%Y-%m-%d %H:%M}Z>"


class DoctorFreeDay(db.Model):
    """A doctor's slots on one clinic-local day, counted: what search reads to answer
    `available_on` without a probe per doctor.

    Kept by the database itself on PostgreSQL: statement-level triggers on slots and
    appointments (and on a doctor's clinic or a clinic's zone changing) recount the days each
    statement touched, in its transaction, whichever path made the change (migration 0023).
    The counts know nothing of the clock: `free_slots` are the open slots no active
    appointment occupies and `last_free_at` the latest start among them (a day has a free slot
    still to come when it is later than now), `held_slots` the open slots a pending_payment
    hold occupies (it may have lapsed since: search probes those). On SQLite (no time zones in
    its SQL) the table stays empty and search probes the slots, as before.
    """

    __tablename__ = "doctor_free_days"
    __table_args__ = (
        # The doctors with a free slot on a day, from the index alone.
        Index(
            "ix_doctor_free_days_day",
            "day",
            "doctor_id",
            postgresql_include=["last_free_at", "held_slots"],
        ),
    )

    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # in the doctor's clinic's zone
    free_slots: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    held_slots: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    last_free_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DoctorFreeDay doctor={self.doctor_id} {self.day} free={self.free_slots}>"
