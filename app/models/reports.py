"""Report rollups: per clinic and local day, what the reports count (services/reports/rollup).

Kept by `refresh` (the periodic schedule, `flask refresh-reports`), never by the request
paths. Database triggers (migration 0024) write a `ReportDirty` row whenever a row of a past
time changes (a visit marked completed, a refund, a hidden review, a doctor moving clinic),
so the reports know which rolled days to count live instead.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime

# ReportDirty.day for "every day of the clinic" (a doctor moved in or out, the zone changed).
ALL_DAYS = date(1, 1, 1)
NO_CLINIC = 0  # clinic_id of doctors without a clinic (they count in UTC)
ALL_SPECIALTIES = 0  # specialty_id of the rows over every doctor

STATUS_COLUMNS = (
    "pending_approval", "confirmed", "completed", "no_show", "cancelled", "rejected",
    "rescheduled", "expired",
)  # fmt: skip
LEAD_BANDS = ("same_day", "1_2_days", "3_7_days", "8_30_days", "over_30_days")


def _count() -> Mapped[int]:
    return mapped_column(nullable=False, default=0)


def _seconds() -> Mapped[float]:
    return mapped_column(Float, nullable=False, default=0)


class ReportDay(db.Model):
    """One clinic's (0: no clinic) local hour of one local day, over every doctor
    (specialty_id 0) or one specialty's doctors: visits by status (by their start), booked
    and offered slot time, lead time per band, new patients (by the visit), visible reviews
    (by the review's date)."""

    __tablename__ = "report_days"

    specialty_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    pending_approval: Mapped[int] = _count()
    confirmed: Mapped[int] = _count()
    completed: Mapped[int] = _count()
    no_show: Mapped[int] = _count()
    cancelled: Mapped[int] = _count()
    rejected: Mapped[int] = _count()
    rescheduled: Mapped[int] = _count()
    expired: Mapped[int] = _count()
    occupied_seconds: Mapped[float] = _seconds()
    offered_seconds: Mapped[float] = _seconds()
    lead_same_day_n: Mapped[int] = _count()
    lead_1_2_days_n: Mapped[int] = _count()
    lead_3_7_days_n: Mapped[int] = _count()
    lead_8_30_days_n: Mapped[int] = _count()
    lead_over_30_days_n: Mapped[int] = _count()
    lead_same_day_s: Mapped[float] = _seconds()
    lead_1_2_days_s: Mapped[float] = _seconds()
    lead_3_7_days_s: Mapped[float] = _seconds()
    lead_8_30_days_s: Mapped[float] = _seconds()
    lead_over_30_days_s: Mapped[float] = _seconds()
    new_patients: Mapped[int] = _count()
    reviews: Mapped[int] = _count()
    rating_sum: Mapped[int] = _count()


class ReportMoneyDay(db.Model):
    """Money of one clinic's local day, as ReportDay: kind "captured" (by the capture's
    date, per currency), "refunded" (by the refund's date), "booked" (booked visits but
    declined requests, by the visit's date, per payment method and fee currency)."""

    __tablename__ = "report_money_days"

    specialty_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    method: Mapped[str] = mapped_column(String(10), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    n: Mapped[int] = _count()
    amount: Mapped[int] = mapped_column(nullable=False, default=0)


class ReportDoctorDay(db.Model):
    """One doctor's visits of one local day by status (the table of doctors)."""

    __tablename__ = "report_doctor_days"
    # The table of doctors sums a range of days by doctor: from the index alone.
    __table_args__ = (
        Index(
            "ix_report_doctor_days_day",
            "day",
            postgresql_include=["doctor_id", "clinic_id", *STATUS_COLUMNS],
        ),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    doctor_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    clinic_id: Mapped[int] = mapped_column(nullable=False)
    pending_approval: Mapped[int] = _count()
    confirmed: Mapped[int] = _count()
    completed: Mapped[int] = _count()
    no_show: Mapped[int] = _count()
    cancelled: Mapped[int] = _count()
    rejected: Mapped[int] = _count()
    rescheduled: Mapped[int] = _count()
    expired: Mapped[int] = _count()


class ReportDoctorWeek(db.Model):
    """ReportDoctorDay summed over one ISO week (day: its Monday), written by `refresh` for
    the weeks whose seven days are all rolled: a long range of the table of doctors reads a
    row per doctor and week inside it, and day rows at its edges only."""

    __tablename__ = "report_doctor_weeks"
    __table_args__ = (
        Index(
            "ix_report_doctor_weeks_day",
            "day",
            postgresql_include=["doctor_id", "clinic_id", *STATUS_COLUMNS],
        ),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    doctor_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    clinic_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    pending_approval: Mapped[int] = _count()
    confirmed: Mapped[int] = _count()
    completed: Mapped[int] = _count()
    no_show: Mapped[int] = _count()
    cancelled: Mapped[int] = _count()
    rejected: Mapped[int] = _count()
    rescheduled: Mapped[int] = _count()
    expired: Mapped[int] = _count()


class ReportLeadDay(db.Model):
    """Booked visits of one clinic's local day (by their start), over every doctor or one
    specialty's, by lead time bucket (lead_bucket in services/reports/queries: whole hours
    under two days, whole days up to a year, then one): the lead-time median's histogram."""

    __tablename__ = "report_lead_days"

    specialty_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = _count()


class ReportLeadWeek(db.Model):
    """ReportLeadDay summed over one ISO week (day: its Monday), as ReportDoctorWeek."""

    __tablename__ = "report_lead_weeks"

    specialty_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = _count()


class ReportRollupClinic(db.Model):
    """How far a clinic's days are rolled: every local day up to `rolled_through`, in the
    zone `timezone` (a clinic whose zone has changed since counts live until refreshed)."""

    __tablename__ = "report_rollup_clinics"

    clinic_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    rolled_through: Mapped[date] = mapped_column(Date, nullable=False)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ReportDirty(db.Model):
    """A UTC day of a clinic whose rolled figures may be out of date (or ALL_DAYS). Written
    by the triggers of migration 0024 only; cleared by `refresh` once recounted."""

    __tablename__ = "report_dirty"

    clinic_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
