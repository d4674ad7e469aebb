"""Doctors joining: an application from the public page, verified or declined by staff with
doctors.manage.

Verifying opens the doctor's account through the staff account service (a doctor profile at
the clinic applied to, with the licence number and specialties, marked verified) and emails
a set-password link through the outbox; the doctor stays unlisted until an admin sets their
fee (access.listing_gaps). Declining needs a reason, which the applicant is emailed at the
address they gave (they have no account: outbox.notify_address). Every step is audited.

A second application from an address that has one waiting changes nothing and is answered
like the first (a partial unique index decides a race), so the page tells nobody whether an
address applied before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    ApplicationStatus,
    Clinic,
    Doctor,
    DoctorApplication,
    Role,
    Specialty,
    User,
)
from app.models.content import MAX_APPLICATION_MESSAGE
from app.services import audit, staff
from app.services.access import has_permission, load_actor
from app.services.accounts import passwords
from app.services.accounts.accounts import normalize_email, normalize_phone
from app.services.errors import ApplicationNotFound, Conflict, Forbidden, InvalidInput
from app.services.l10n import format_number
from app.services.notifications import outbox
from app.services.paging import Paged
from app.services.transaction import transaction, use_case

PERMISSION = "doctors.manage"
LICENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{2,63}$")
MAX_SPECIALTIES = 5
PER_PAGE = 25
S = ApplicationStatus


class AlreadyDecided(Conflict):
    code = "application_decided"
    default_message = lazy_gettext("This application was already verified or declined.")


@dataclass(frozen=True)
class ApplicationInput:
    name: str
    email: str
    licence_number: str
    clinic_id: int | None
    specialty_ids: list[int]
    phone: str | None = None
    message: str | None = None
    locale: str | None = None  # the language the applicant wrote in: the answer's


def _checked(data: ApplicationInput) -> dict:
    name = (data.name or "").strip()
    if not name:
        raise InvalidInput(gettext("Your name is required."), field="name")
    if len(name) > 120:
        raise InvalidInput(gettext("At most 120 characters."), field="name")
    email = normalize_email(data.email)  # InvalidInput on the email field
    phone = normalize_phone(data.phone) if (data.phone or "").strip() else None
    licence = " ".join((data.licence_number or "").split())
    if not LICENCE.match(licence):
        raise InvalidInput(
            gettext(
                "Enter your licence number as issued: 3 to 64 letters, digits, spaces, dots, "
                "slashes or hyphens."
            ),
            field="licence_number",
        )
    if data.clinic_id is None or db.session.get(Clinic, data.clinic_id) is None:
        raise InvalidInput(gettext("Choose the clinic you work at."), field="clinic_id")
    wanted = sorted(set(data.specialty_ids or []))
    if not wanted:
        raise InvalidInput(gettext("Choose at least one specialty."), field="specialty_ids")
    if len(wanted) > MAX_SPECIALTIES:
        raise InvalidInput(
            gettext(
                "Choose at most %(MAX_SPECIALTIES)s specialties.", MAX_SPECIALTIES=MAX_SPECIALTIES
            ),
            field="specialty_ids",
        )
    known = db.session.scalar(select(func.count(Specialty.id)).where(Specialty.id.in_(wanted)))
    if known != len(wanted):
        raise InvalidInput(gettext("Choose specialties from the list."), field="specialty_ids")
    message = (data.message or "").strip() or None
    if message is not None and len(message) > MAX_APPLICATION_MESSAGE:
        raise InvalidInput(
            gettext("At most %(limit)s characters.", limit=format_number(MAX_APPLICATION_MESSAGE)),
            field="message",
        )
    return {
        "name": name,
        "email": email,
        "phone": phone,
        "licence_number": licence,
        "clinic_id": data.clinic_id,
        "specialty_ids": wanted,
        "message": message,
    }


def apply(data: ApplicationInput, *, now: datetime) -> DoctorApplication | None:
    """Record an application (None when one from this address is waiting already: nothing
    changes, and the caller answers the same). Raises InvalidInput."""
    values = _checked(data)
    with transaction():
        waiting = db.session.scalar(
            select(DoctorApplication.id).where(
                DoctorApplication.email == values["email"],
                DoctorApplication.status == S.PENDING,
            )
        )
        if waiting is not None:
            return None
        application = DoctorApplication(
            **values, locale=data.locale, status=S.PENDING, created_at=now
        )
        try:
            with db.session.begin_nested():
                db.session.add(application)
                db.session.flush()
        except IntegrityError:  # the same address applied at the same moment
            return None
        audit.record(
            "doctor_application.submitted",
            actor_id=None,
            target_type="doctor_application",
            target_id=application.id,
            data={"email": application.email, "clinic_id": application.clinic_id},
        )
    return application


# --- staff ----------------------------------------------------------------------------------


@dataclass
class ApplicationPage(Paged):
    items: list[DoctorApplication]
    total: int
    page: int
    per_page: int
    waiting: int  # pending applications in all (the tab's count)


def _manager(actor_id: int) -> User:
    actor = load_actor(actor_id)
    if not has_permission(actor, PERMISSION):
        raise Forbidden(gettext("You may not decide doctors' applications."))
    return actor


def list_applications(
    *, actor_id: int, status: ApplicationStatus | None = S.PENDING, page: int = 1
) -> ApplicationPage:
    """Applications of one status (None: all), oldest waiting first; decided ones newest
    first. Raises Forbidden."""
    _manager(actor_id)
    where = [DoctorApplication.status == status] if status is not None else []
    order = (
        (DoctorApplication.created_at, DoctorApplication.id)
        if status is S.PENDING
        else (DoctorApplication.created_at.desc(), DoctorApplication.id.desc())
    )
    page = max(page, 1)
    total = db.session.scalar(select(func.count(DoctorApplication.id)).where(*where)) or 0
    items = db.session.scalars(
        select(DoctorApplication)
        .where(*where)
        .order_by(*order)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    waiting = db.session.scalar(
        select(func.count(DoctorApplication.id)).where(DoctorApplication.status == S.PENDING)
    )
    return ApplicationPage(
        items=list(items), total=total, page=page, per_page=PER_PAGE, waiting=waiting or 0
    )


def get_application(application_id: int, *, actor_id: int) -> DoctorApplication:
    """Raises Forbidden, ApplicationNotFound."""
    _manager(actor_id)
    application = db.session.get(DoctorApplication, application_id)
    if application is None:
        raise ApplicationNotFound()
    return application


def specialties_of(application: DoctorApplication) -> list[Specialty]:
    """The specialties asked for that still exist, by name."""
    if not application.specialty_ids:
        return []
    return list(
        db.session.scalars(
            select(Specialty)
            .where(Specialty.id.in_(application.specialty_ids))
            .order_by(Specialty.name)
        )
    )


def _pending_locked(application_id: int) -> DoctorApplication:
    application = db.session.scalar(
        select(DoctorApplication).where(DoctorApplication.id == application_id).with_for_update()
    )
    if application is None:
        raise ApplicationNotFound()
    if application.status is not S.PENDING:
        raise AlreadyDecided()
    return application


@use_case
def verify(*, application_id: int, actor_id: int, now: datetime, ip: str | None = None) -> Doctor:
    """Open the doctor's account from the application and email a set-password link.
    Raises Forbidden, ApplicationNotFound, AlreadyDecided, AccountExists (the address has an
    account: change its role at Users instead), InvalidInput (the clinic is gone)."""
    actor = _manager(actor_id)
    application = _pending_locked(application_id)
    user = staff.open_staff_account(
        staff.NewStaffAccount(
            email=application.email,
            name=application.name,
            role=Role.DOCTOR,
            phone=application.phone,
            clinic_id=application.clinic_id,
        ),
        actor=actor,
        now=now,
        ip=ip,
    )
    user.browser_locale = application.locale  # the welcome is in the application's language
    doctor = db.session.scalar(select(Doctor).where(Doctor.user_id == user.id))
    doctor.licence_number = application.licence_number
    doctor.specialties = specialties_of(application)
    doctor.verified_at = now  # the credentials were checked: that is what verifying means
    doctor.updated_by_id = actor.id
    application.status = S.VERIFIED
    application.decided_at = now
    application.decided_by_id = actor.id
    application.doctor_id = doctor.id
    audit.record(
        "doctor_application.verified",
        actor_id=actor.id,
        target_type="doctor_application",
        target_id=application.id,
        data={"doctor_id": doctor.id, "user_id": user.id},
        ip=ip,
    )
    passwords.send_set_password_link(
        user.id, now=now, actor_id=actor.id, ip=ip, kind="doctor_application.verified"
    )
    return doctor


@use_case
def decline(
    *, application_id: int, reason: str, actor_id: int, now: datetime, ip: str | None = None
) -> DoctorApplication:
    """Decline with a reason, emailed to the applicant. Raises Forbidden, InvalidInput (no
    reason), ApplicationNotFound, AlreadyDecided."""
    actor = _manager(actor_id)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput(gettext("Say why: the applicant is told."), field="reason")
    if len(reason) > 500:
        raise InvalidInput(gettext("At most 500 characters."), field="reason")
    application = _pending_locked(application_id)
    application.status = S.DECLINED
    application.decline_reason = reason
    application.decided_at = now
    application.decided_by_id = actor.id
    audit.record(
        "doctor_application.declined",
        actor_id=actor.id,
        target_type="doctor_application",
        target_id=application.id,
        data={"reason": reason},
        ip=ip,
    )
    outbox.notify_address(
        application.email,
        "doctor_application.declined",
        key=f"doctor-application:{application.id}:declined",
        data={"name": application.name, "reason": reason, "locale": application.locale},
    )
    return application
