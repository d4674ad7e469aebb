"""Reading appointments: a patient's, a doctor's schedule, and lists for the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, raiseload, selectinload

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Clinic, Doctor, Role, Slot
from app.services import access
from app.services.errors import DoctorNotFound, InvalidInput, SlotNotFound

MAX_SCHEDULE_DAYS = 42
MAX_PER_PAGE = 100  # appointments_for
_LOAD = (
    selectinload(Appointment.doctor).selectinload(Doctor.user),
    selectinload(Appointment.doctor).selectinload(Doctor.clinic),
    selectinload(Appointment.patient),
    selectinload(Appointment.slot),
)
# Lapsed card holds are history, not bookings: lists leave them out.
_SHOWN = Appointment.status != AppointmentStatus.EXPIRED


@dataclass
class AppointmentPage:
    items: list[Appointment]
    total: int
    page: int
    per_page: int


def patient_appointments(*, patient_id: int, now: datetime) -> tuple[list, list]:
    """(upcoming bookings soonest first, history latest first) of a patient. History holds
    past visits and cancelled or rejected ones, even when their date is still ahead."""
    base = select(Appointment).where(Appointment.patient_id == patient_id, _SHOWN).options(*_LOAD)
    booked = Appointment.status.in_(
        (AppointmentStatus.PENDING_PAYMENT, AppointmentStatus.PENDING_APPROVAL,
         AppointmentStatus.CONFIRMED)
    )  # fmt: skip
    upcoming = db.session.scalars(
        base.where(Appointment.ends_at > now, booked).order_by(Appointment.starts_at)
    ).all()
    history = db.session.scalars(
        base.where(or_(Appointment.ends_at <= now, ~booked))
        .order_by(Appointment.starts_at.desc())
        .limit(100)
    ).all()
    return list(upcoming), list(history)


def doctor_schedule(
    *, doctor_id: int, start: datetime, end: datetime, include_cancelled: bool = False
) -> list[Appointment]:
    """A doctor's appointments starting in [start, end). Raises InvalidInput for a bad range."""
    if end <= start or end - start > timedelta(days=MAX_SCHEDULE_DAYS):
        raise InvalidInput(
            gettext(
                "A schedule covers 1 to %(MAX_SCHEDULE_DAYS)s days.",
                MAX_SCHEDULE_DAYS=MAX_SCHEDULE_DAYS,
            ),
            field="end",
        )
    stmt = (
        select(Appointment)
        .where(
            Appointment.doctor_id == doctor_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            _SHOWN,
        )
        .order_by(Appointment.starts_at)
        .options(*_LOAD)
    )
    if not include_cancelled:
        stmt = stmt.where(
            Appointment.status.not_in((AppointmentStatus.CANCELLED, AppointmentStatus.REJECTED))
        )
    return list(db.session.scalars(stmt))


def pending_approvals(*, doctor_id: int, now: datetime) -> list[Appointment]:
    """Upcoming bookings of a doctor that wait for their approval, soonest first."""
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.doctor_id == doctor_id,
                Appointment.status == AppointmentStatus.PENDING_APPROVAL,
                Appointment.starts_at > now,
            )
            .order_by(Appointment.starts_at)
            .options(*_LOAD)
        )
    )


def appointments_for(
    *,
    viewer_id: int,
    page: int = 1,
    per_page: int = 20,
    status: AppointmentStatus | None = None,
) -> AppointmentPage:
    """The appointments a viewer may list: a patient's own, a doctor's own, all for staff
    (admins, helpers with bookings.view). Newest first."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(
            gettext("page starts at 1 and per_page is 1 to %(most)s.", most=MAX_PER_PAGE),
            field="page",
        )
    viewer = access.load_actor(viewer_id)
    stmt = select(Appointment)
    if viewer.role is Role.PATIENT:
        stmt = stmt.where(Appointment.patient_id == viewer.id)
    elif viewer.role is Role.DOCTOR:
        stmt = stmt.join(Doctor, Doctor.id == Appointment.doctor_id).where(
            Doctor.user_id == viewer.id
        )
    elif not (
        access.has_permission(viewer, "bookings.view")
        or access.has_permission(viewer, "bookings.manage")
    ):
        stmt = stmt.where(Appointment.id.is_(None))
    if status is not None:
        stmt = stmt.where(Appointment.status == status)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = db.session.scalars(
        stmt.options(*_LOAD)
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AppointmentPage(list(items), total, page, per_page)


# A doctor as the public pages and the API show them, in one statement: the account, the
# clinic, specialties and languages. Anything else they would load lazily raises instead
# (raiseload): the public pages are hot paths, and a relationship added to what they show
# without being loaded here fails the tests (tests/integration/pages/test_hot_paths.py)
# rather than costing a query per page in production.
PUBLIC_DOCTOR = (
    joinedload(Doctor.user).raiseload("*", sql_only=True),
    joinedload(Doctor.clinic).raiseload("*", sql_only=True),
    joinedload(Doctor.specialties),
    joinedload(Doctor.spoken_languages),
    raiseload("*", sql_only=True),
)


def public_doctor(doctor_id: int) -> Doctor:
    """The one loader of a doctor as patients see them (access.managed_doctor is the one for
    managing them), with what the public pages show (PUBLIC_DOCTOR). Raises DoctorNotFound
    for unknown or deactivated doctors and for accounts no longer in the doctor role."""

    doctor = db.session.get(Doctor, doctor_id, options=PUBLIC_DOCTOR)
    if doctor is None or not access.is_listed(doctor):
        raise DoctorNotFound()
    return doctor


def public_doctor_zone(doctor_id: int) -> str:
    """The clinic zone of a listed doctor, in one small query (for the slot listing, which
    needs no more of the doctor). Raises DoctorNotFound as public_doctor does."""
    timezone = db.session.scalar(
        select(Clinic.timezone)
        .select_from(Doctor)
        .join(Doctor.user)
        .join(Doctor.clinic)
        .where(Doctor.id == doctor_id, access.listed_doctor_clause())
    )
    if timezone is None:
        raise DoctorNotFound()
    return timezone


def slot_with_doctor(slot_id: int) -> Slot:
    """A slot for the booking page. Raises NotFound."""
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise SlotNotFound()
    return slot
