"""Who may see and change what: object-level rules shared by the pages and the API."""

from __future__ import annotations

from sqlalchemy import and_, select

from app.extensions import db
from app.models import Appointment, Doctor, Role, User
from app.services.errors import DoctorNotFound, Forbidden

PERMISSIONS = (
    "bookings.view",
    "bookings.manage",
    "doctors.manage",
    "payments.view",
    "payments.refund",
    "content.manage",
    "reports.view",
    "users.manage",
)


def has_permission(user: User, permission: str) -> bool:
    """Admins have every permission; helpers those an admin granted them."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.HELPER and permission in user.permission_names


def load_actor(actor_id: int) -> User:
    """The acting user. Raises Forbidden when unknown or deactivated."""
    actor = db.session.get(User, actor_id)
    if actor is None or not actor.is_active:
        raise Forbidden()
    return actor


def is_the_doctor(user: User, doctor: Doctor) -> bool:
    """The user is this doctor: their account, and still in the doctor role (an account moved
    to another role keeps its doctor row for history, not the doctor's access)."""
    return user.role is Role.DOCTOR and doctor.user_id == user.id


def is_listed(doctor: Doctor) -> bool:
    """Patients may find and book the doctor: an active account in the doctor role."""
    return doctor.user.is_active and doctor.user.role is Role.DOCTOR


def listed_doctor_clause():
    """is_listed in SQL, for queries that join Doctor.user."""
    return and_(User.is_active.is_(True), User.role == Role.DOCTOR)


def can_manage_doctor(actor: User, doctor: Doctor) -> bool:
    """The doctor themself, admins, helpers with doctors.manage."""
    return is_the_doctor(actor, doctor) or has_permission(actor, "doctors.manage")


def managed_doctor(actor_id: int, doctor_id: int, *, lock: bool = False) -> Doctor:
    """The one loader of a doctor for someone managing them (can_manage_doctor), listed or
    not. With `lock`, the doctor's row is locked for the transaction: changes to one doctor's
    slots then run one at a time (racing inserts against the exclusion constraint can
    otherwise end in a deadlock, not a clean refusal). Raises DoctorNotFound, Forbidden."""
    stmt = select(Doctor).where(Doctor.id == doctor_id)
    if lock:
        stmt = stmt.with_for_update()
    doctor = db.session.scalar(stmt)
    if doctor is None:
        raise DoctorNotFound()
    if not can_manage_doctor(load_actor(actor_id), doctor):
        raise Forbidden("Only this doctor or an admin can manage this doctor.")
    return doctor


def can_view_appointment(actor: User, appointment: Appointment) -> bool:
    return (
        appointment.patient_id == actor.id
        or is_the_doctor(actor, appointment.doctor)
        or has_permission(actor, "bookings.view")
        or has_permission(actor, "bookings.manage")
    )


def can_manage_appointment(actor: User, appointment: Appointment) -> bool:
    return (
        appointment.patient_id == actor.id
        or is_the_doctor(actor, appointment.doctor)
        or has_permission(actor, "bookings.manage")
    )


def can_settle_payment(actor: User, appointment: Appointment) -> bool:
    """Who may make the app capture (or release) a hold's card payment on demand: the payer,
    and staff trusted with money (payments.refund; admins). Seeing a booking is not enough."""
    return appointment.patient_id == actor.id or has_permission(actor, "payments.refund")


def doctor_of(user: User) -> Doctor | None:
    """The doctor profile of a doctor account (None for any other role)."""
    if user.role is not Role.DOCTOR:
        return None
    return db.session.scalar(select(Doctor).where(Doctor.user_id == user.id))
