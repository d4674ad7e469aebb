"""Appointments as staff see them: the admin search (patient, doctor, clinic, status, dates)
and one appointment with its history: who changed what (the audit trail of the appointment
and of its payments), the payments with their refunds, and every notification the outbox
holds about it. Nothing here writes; cancelling on the clinic's behalf is
booking.cancel_appointment with a staff actor (the policy then refunds in full).

Who may read: admins and helpers with bookings.view or bookings.manage (the same rule as the
API's appointment reads, access.can_view_appointment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    AuditLog,
    Doctor,
    Notification,
    Payment,
    Refund,
    User,
)
from app.services import access, like
from app.services.errors import AppointmentNotFound, Forbidden, InvalidInput
from app.services.paging import Paged

PER_PAGE = 25
MAX_PER_PAGE = 100


def may_view(actor: User) -> bool:
    return access.has_permission(actor, "bookings.view") or access.has_permission(
        actor, "bookings.manage"
    )


def may_cancel(actor: User) -> bool:
    return access.has_permission(actor, "bookings.manage")


@dataclass(frozen=True)
class AppointmentQuery:
    patient: str | None = None  # part of the patient's name or email
    doctor: str | None = None  # part of the doctor's name or email
    clinic_id: int | None = None
    status: AppointmentStatus | None = None
    since: date | None = None  # inclusive, UTC days of the visit's start
    until: date | None = None  # inclusive


@dataclass
class AppointmentPage(Paged):
    items: list[Appointment]
    total: int
    page: int
    per_page: int


def _require_viewer(actor_id: int) -> User:
    actor = access.load_actor(actor_id)
    if not may_view(actor):
        raise Forbidden(gettext("You may not see appointments."))
    return actor


def search_appointments(
    query: AppointmentQuery, *, actor_id: int, page: int = 1, per_page: int = PER_PAGE
) -> AppointmentPage:
    """Appointments matching `query`, the latest visit first, with patient, doctor and clinic.
    Raises Forbidden, InvalidInput (a range that ends before it starts)."""
    _require_viewer(actor_id)
    if query.since and query.until and query.since > query.until:
        raise InvalidInput(gettext("The start of the range is after its end."), field="since")
    patient = aliased(User)
    doctor_user = aliased(User)
    where = []
    if query.patient and query.patient.strip():
        where.append(
            or_(
                like.contains(patient.email, query.patient, ignore_case=False),
                like.contains(patient.name, query.patient),
            )
        )
    if query.doctor and query.doctor.strip():
        where.append(
            or_(
                like.contains(doctor_user.email, query.doctor, ignore_case=False),
                like.contains(doctor_user.name, query.doctor),
            )
        )
    if query.clinic_id is not None:
        where.append(Doctor.clinic_id == query.clinic_id)
    if query.status is not None:
        where.append(Appointment.status == query.status)
    if query.since:
        where.append(Appointment.starts_at >= datetime.combine(query.since, time(0), UTC))
    if query.until:
        end = datetime.combine(query.until + timedelta(days=1), time(0), UTC)
        where.append(Appointment.starts_at < end)

    def joined(statement):
        return (
            statement.join(patient, patient.id == Appointment.patient_id)
            .join(Doctor, Doctor.id == Appointment.doctor_id)
            .join(doctor_user, doctor_user.id == Doctor.user_id)
            .where(*where)
        )

    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    page = max(page, 1)
    total = db.session.scalar(joined(select(func.count(Appointment.id))))
    items = db.session.scalars(
        joined(select(Appointment))
        .options(
            joinedload(Appointment.patient),
            joinedload(Appointment.doctor).joinedload(Doctor.user),
            joinedload(Appointment.doctor).joinedload(Doctor.clinic),
        )
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AppointmentPage(items=list(items), total=total or 0, page=page, per_page=per_page)


@dataclass
class AppointmentHistory:
    appointment: Appointment
    changes: list[AuditLog]  # the appointment's and its payments' audit entries, oldest first
    payments: list[Payment]  # with their refunds
    notifications: list[Notification]  # about this appointment, oldest first
    moved_from: Appointment | None = None  # the appointment this one was rescheduled from
    moved_to: list[Appointment] = field(default_factory=list)


def appointment_history(*, appointment_id: int, actor_id: int) -> AppointmentHistory:
    """One appointment with everything that happened to it. Raises Forbidden,
    AppointmentNotFound."""
    _require_viewer(actor_id)
    appointment = db.session.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .options(
            joinedload(Appointment.patient),
            joinedload(Appointment.slot),
            joinedload(Appointment.doctor).joinedload(Doctor.user),
            joinedload(Appointment.doctor).joinedload(Doctor.clinic),
        )
    )
    if appointment is None:
        raise AppointmentNotFound()
    payments = list(
        db.session.scalars(
            select(Payment)
            .where(Payment.appointment_id == appointment.id)
            .options(selectinload(Payment.refunds).joinedload(Refund.created_by))
            .order_by(Payment.created_at, Payment.id)
        )
    )
    targets = [
        and_(AuditLog.target_type == "appointment", AuditLog.target_id == str(appointment.id))
    ]
    if payments:
        targets.append(
            and_(
                AuditLog.target_type == "payment",
                AuditLog.target_id.in_([str(p.id) for p in payments]),
            )
        )
    changes = list(
        db.session.scalars(
            select(AuditLog)
            .where(or_(*targets))
            .options(joinedload(AuditLog.actor))
            .order_by(AuditLog.at, AuditLog.id)
        )
    )
    # Notifications name their appointment in their data; the recipients (the patient and the
    # doctor) narrow the scan to their rows first (ix_notifications_user_created).
    notifications = list(
        db.session.scalars(
            select(Notification)
            .where(
                Notification.user_id.in_((appointment.patient_id, appointment.doctor.user_id)),
                Notification.data["appointment_id"].as_integer() == appointment.id,
            )
            .options(joinedload(Notification.user))
            .order_by(Notification.created_at, Notification.id)
        )
    )
    moved_to = list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.rescheduled_from_id == appointment.id)
            .order_by(Appointment.id)
        )
    )
    return AppointmentHistory(
        appointment=appointment,
        changes=changes,
        payments=payments,
        notifications=notifications,
        moved_from=appointment.rescheduled_from,
        moved_to=moved_to,
    )
