"""Who may see and change what: object-level rules shared by the pages and the API."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
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
    "notifications.view",
    "reviews.moderate",
    "conversations.audit",
    "integrations.manage",
)

# What each permission is called on the pages, and what it opens.
PERMISSION_LABELS = {
    "bookings.view": lazy_gettext("See appointments (admin pages and the API)"),
    "bookings.manage": lazy_gettext("Manage appointments (cancel on the clinic's behalf; the API)"),
    "doctors.manage": lazy_gettext("Manage doctors"),
    "payments.view": lazy_gettext("See payments"),
    "payments.refund": lazy_gettext("Refund payments"),
    "content.manage": lazy_gettext("Manage clinics, specialties and the help and policy pages"),
    "reports.view": lazy_gettext("See reports (bookings, utilisation, revenue; CSV downloads)"),
    "users.manage": lazy_gettext("Manage users"),
    "notifications.view": lazy_gettext("See notifications and queues (and retry failures)"),
    "reviews.moderate": lazy_gettext("Moderate reviews (hide and restore them)"),
    "conversations.audit": lazy_gettext(
        "Open patient-doctor conversations (disputes; each opening is audited)"
    ),
    "integrations.manage": lazy_gettext(
        "Manage clinics' webhooks (endpoints, their secrets, replays)"
    ),
}

# The permissions an admin page offers to grant: those that open something (all of them now
# that reports.view opens /admin/reports and the reports API).
GRANTABLE_PERMISSIONS = PERMISSIONS


def permission_label(permission: str) -> str:
    """The permission's name in the reader's language (a lazy string where defined at import:
    a form's choices)."""
    return PERMISSION_LABELS.get(permission, permission)


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
    """Patients may find, see and book the doctor: an active account in the doctor role,
    verified by an admin, and complete (a clinic, at least one specialty, a fee above 0).
    listed_doctor_clause is the same rule in SQL; keep the two together."""
    return (
        doctor.user.is_active
        and doctor.user.role is Role.DOCTOR
        and doctor.verified_at is not None
        and doctor.clinic_id is not None
        and doctor.fee_amount > 0
        and bool(doctor.specialties)
    )


def listed_doctor_clause():
    """is_listed in SQL, for queries that join Doctor.user."""
    return and_(
        User.is_active.is_(True),
        User.role == Role.DOCTOR,
        Doctor.verified_at.is_not(None),
        Doctor.clinic_id.is_not(None),
        Doctor.fee_amount > 0,
        Doctor.specialties.any(),
    )


def listing_gaps(doctor: Doctor) -> list[str]:
    """What keeps a doctor out of search, in words for the admin pages (empty: listed)."""
    gaps = []
    if not doctor.user.is_active:
        gaps.append(gettext("the account is deactivated"))
    if doctor.user.role is not Role.DOCTOR:
        gaps.append(gettext("the account is no longer a doctor"))
    if doctor.verified_at is None:
        gaps.append(gettext("not verified"))
    if doctor.clinic_id is None:
        gaps.append(gettext("no clinic"))
    if not doctor.specialties:
        gaps.append(gettext("no specialty"))
    if doctor.fee_amount <= 0:
        gaps.append(gettext("no fee"))
    return gaps


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
        raise Forbidden(gettext("Only this doctor or an admin can manage this doctor."))
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
