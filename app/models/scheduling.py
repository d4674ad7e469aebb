"""Availability: a doctor's bookable slots."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint, func, literal_column
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
