"""Clinics, specialties and doctors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import AuditColumns
from app.models.types import UTCDateTime, currency_column
from app.models.users import User

DEFAULT_REMINDER_OFFSETS = (24 * 60, 2 * 60)  # minutes before the start

doctor_specialties = Table(
    "doctor_specialties",
    db.metadata,
    Column("doctor_id", ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True),
    Column("specialty_id", ForeignKey("specialties.id", ondelete="CASCADE"), primary_key=True),
)


class Clinic(AuditColumns, db.Model):
    __tablename__ = "clinics"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        CheckConstraint("cancellation_window_hours >= 0", name="cancellation_window"),
        CheckConstraint(
            "late_cancellation_refund_percent IS NULL"
            " OR (late_cancellation_refund_percent BETWEEN 0 AND 100)",
            name="late_cancellation_refund_percent",
        ),
        CheckConstraint("chat_days_after_visit BETWEEN 0 AND 365", name="chat_days_after_visit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), nullable=False, unique=True)
    address: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)  # IANA name
    currency: Mapped[str] = mapped_column(currency_column(), nullable=False, default="USD")
    # Policy: free online cancel/reschedule until this many hours before the start.
    cancellation_window_hours: Mapped[int] = mapped_column(nullable=False, default=24)
    # Inside that window: None = no online cancelling (call the clinic); 0..100 = patients may
    # still cancel online and get this percent of a card payment back.
    late_cancellation_refund_percent: Mapped[int | None] = mapped_column()
    accepts_cash: Mapped[bool] = mapped_column(nullable=False, default=True)
    # Reminders go this many minutes before each confirmed visit (24 h and 2 h by default).
    reminder_offsets: Mapped[list[int]] = mapped_column(
        JSON, nullable=False, default=lambda: list(DEFAULT_REMINDER_OFFSETS)
    )

    # Patients may write to their doctor this many days after their last visit.
    chat_days_after_visit: Mapped[int] = mapped_column(nullable=False, default=14)
    # Video visits at an external meeting provider instead of Carebook's own room: an https
    # URL with {appointment_id} and/or {token} (services/visits). None: Carebook's room.
    meeting_url_template: Mapped[str | None] = mapped_column(String(500))

    doctors: Mapped[list[Doctor]] = relationship(back_populates="clinic")

    def __repr__(self) -> str:
        return f"<Clinic {self.id} {self.name}>"


class Specialty(db.Model):
    __tablename__ = "specialties"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    slug: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)


class Doctor(AuditColumns, db.Model):
    __tablename__ = "doctors"
    __table_args__ = (
        CheckConstraint("fee_amount >= 0", name="fee_not_negative"),
        CheckConstraint(
            "rating_count >= 0 AND rating_sum BETWEEN rating_count AND 5 * rating_count",
            name="rating_totals",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    clinic_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="SET NULL"), index=True
    )
    licence_number: Mapped[str | None] = mapped_column(String(64))
    fee_amount: Mapped[int] = mapped_column(nullable=False, default=0)  # minor units
    fee_currency: Mapped[str] = mapped_column(currency_column(), nullable=False, default="USD")
    bio: Mapped[str | None] = mapped_column(Text)
    requires_approval: Mapped[bool] = mapped_column(nullable=False, default=False)
    # When an admin checked the doctor's credentials; None until then.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The photo's content hash: its files (services/photos.py) are named by it, so their URLs
    # change with the photo and can be cached for good. None: no photo (initials are shown).
    photo_hash: Mapped[str | None] = mapped_column(String(32))
    # The visible reviews' count and sum of ratings, kept by services/reviews in the same
    # transaction as each review change (search sorts and shows them without aggregating).
    rating_count: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    # On call: the doctor takes on-demand consults of their specialties (services/consults).
    on_call: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=false())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    clinic: Mapped[Clinic | None] = relationship(back_populates="doctors")
    specialties: Mapped[list[Specialty]] = relationship(
        secondary=doctor_specialties, order_by=Specialty.name
    )
    spoken_languages: Mapped[list[DoctorLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="DoctorLanguage.code"
    )

    @property
    def timezone(self) -> str:
        """The IANA zone the doctor's times are shown in: the clinic's, UTC without a clinic."""
        return self.clinic.timezone if self.clinic else "UTC"

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def rating_average(self) -> float | None:
        """The plain mean of the visible ratings, one decimal; None before the first."""
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    @property
    def language_codes(self) -> list[str]:
        """ISO 639-1 codes of the languages the doctor speaks, alphabetically."""
        return sorted(row.code for row in self.spoken_languages)


class DoctorLanguage(db.Model):
    """A language a doctor speaks with patients: an ISO 639-1 code (services/languages.py
    holds the ones offered and their names)."""

    __tablename__ = "doctor_languages"
    __table_args__ = (
        CheckConstraint("length(code) = 2 AND code = lower(code)", name="code_iso_639_1"),
    )

    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True
    )
    # Its own index: search filters by language (the primary key leads with the doctor).
    code: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)
