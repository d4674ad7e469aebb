"""The directory: specialties, clinics and doctors; reading it, and running it (admin pages).

The running side needs content.manage (clinics, specialties) or doctors.manage (doctors) and
audits every change with the acting user and their address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask_babel import gettext, lazy_gettext
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Clinic, Doctor, Specialty, User
from app.services import audit, like
from app.services.access import has_permission, load_actor, managed_doctor
from app.services.accounts.accounts import normalize_email, normalize_phone
from app.services.errors import (
    ClinicNotFound,
    Conflict,
    Forbidden,
    InvalidInput,
    SpecialtyNotFound,
)
from app.services.transaction import use_case
from app.services.visits.rooms import clean_meeting_template


def list_specialties() -> list[Specialty]:
    return list(db.session.scalars(select(Specialty).order_by(Specialty.name)))


def list_clinics() -> list[Clinic]:
    return list(db.session.scalars(select(Clinic).order_by(Clinic.name)))


# --- Running the directory (admin pages): clinics, specialties, doctors --------------------


class NameTaken(Conflict):
    code = "name_taken"
    default_message = lazy_gettext("That name is already used.")


@dataclass(frozen=True)
class ClinicInput:
    name: str
    city: str
    timezone: str
    currency: str = "USD"
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    cancellation_window_hours: int = 24
    accepts_cash: bool = True
    # None: no online cancelling inside the window; 0..100: allowed, refunding this percent.
    late_cancellation_refund_percent: int | None = None
    # Hours before each visit that its patient is reminded, as typed ("24, 2"; empty: none).
    # None keeps the clinic's offsets (24 h and 2 h for a new clinic).
    reminder_hours: str | None = None
    # Patients may message their doctor this many days after their last visit.
    chat_days_after_visit: int = 14
    # Video visits at an external meeting provider: an https URL template with
    # {appointment_id} and/or {token} (services/visits/rooms.py). None: Carebook's own room.
    meeting_url_template: str | None = None


@dataclass(frozen=True)
class DoctorInput:
    clinic_id: int | None
    specialty_ids: tuple[int, ...]
    fee_amount: int  # minor units, in the clinic's currency
    licence_number: str | None = None
    bio: str | None = None
    requires_approval: bool = False


def get_clinic(clinic_id: int) -> Clinic:
    """Raises NotFound."""
    clinic = db.session.get(Clinic, clinic_id)
    if clinic is None:
        raise ClinicNotFound()
    return clinic


@use_case
def save_clinic(
    values: ClinicInput,
    *,
    clinic_id: int | None = None,
    actor_id: int,
    now: datetime,  # noqa: ARG001 — tests/integration/services/test_clinic_policy.py passes it
    ip: str | None,
) -> Clinic:
    """Create a clinic (clinic_id None) or update one. Raises Forbidden, NotFound,
    InvalidInput (time zone, currency, coordinates, contact details) and NameTaken."""
    actor = _actor(actor_id, "content.manage")
    clean = _clean_clinic(values)
    clinic = Clinic() if clinic_id is None else get_clinic(clinic_id)
    before = {k: getattr(clinic, k) for k in clean} if clinic_id is not None else {}
    for key, value in clean.items():
        setattr(clinic, key, value)
    clinic.updated_by_id = actor.id
    if clinic_id is None:
        clinic.created_by_id = actor.id
        db.session.add(clinic)
    _flush_or_name_taken("A clinic with that name already exists.")
    changed = {k: v for k, v in clean.items() if before.get(k, object()) != v}
    audit.record(
        "admin.clinic_created" if clinic_id is None else "admin.clinic_updated",
        actor_id=actor.id,
        target_type="clinic",
        target_id=clinic.id,
        data={"changed": sorted(changed)},
        ip=ip,
    )
    return clinic


@use_case
def create_specialty(name: str, *, actor_id: int, ip: str | None) -> Specialty:
    """Raises Forbidden, InvalidInput, NameTaken."""
    actor = _actor(actor_id, "content.manage")
    name = _specialty_name(name)
    specialty = Specialty(name=name, slug=_slug(name))
    db.session.add(specialty)
    _flush_or_name_taken("A specialty with that name already exists.")
    audit.record(
        "admin.specialty_created",
        actor_id=actor.id,
        target_type="specialty",
        target_id=specialty.id,
        data={"name": name},
        ip=ip,
    )
    return specialty


@use_case
def rename_specialty(specialty_id: int, name: str, *, actor_id: int, ip: str | None) -> Specialty:
    """The slug stays: it is in search links people keep. Raises Forbidden, NotFound,
    InvalidInput, NameTaken."""
    actor = _actor(actor_id, "content.manage")
    specialty = db.session.get(Specialty, specialty_id)
    if specialty is None:
        raise SpecialtyNotFound()
    old, specialty.name = specialty.name, _specialty_name(name)
    _flush_or_name_taken("A specialty with that name already exists.")
    audit.record(
        "admin.specialty_renamed",
        actor_id=actor.id,
        target_type="specialty",
        target_id=specialty.id,
        data={"from": old, "to": specialty.name},
        ip=ip,
    )
    return specialty


def list_doctors(query: str | None = None) -> list[Doctor]:
    """Every doctor (with user, clinic and specialties loaded), by name."""
    statement = (
        select(Doctor)
        .join(Doctor.user)
        .options(
            joinedload(Doctor.user),
            joinedload(Doctor.clinic),
            selectinload(Doctor.specialties),
        )
        .order_by(User.name, Doctor.id)
    )
    if query and query.strip():
        statement = statement.where(
            or_(
                like.contains(User.name, query),
                like.contains(User.email, query, ignore_case=False),
            )
        )
    return list(db.session.scalars(statement).unique())


@use_case
def update_doctor(doctor_id: int, values: DoctorInput, *, actor_id: int, ip: str | None) -> Doctor:
    """Clinic, specialties, fee (in the clinic's currency), licence, bio, approval rule.
    Raises Forbidden, NotFound, InvalidInput."""
    actor = _actor(actor_id, "doctors.manage")
    doctor = managed_doctor(actor.id, doctor_id)
    clinic = None
    if values.clinic_id is not None:
        clinic = db.session.get(Clinic, values.clinic_id)
        if clinic is None:
            raise InvalidInput(gettext("There is no such clinic."), field="clinic_id")
    specialties = list(
        db.session.scalars(select(Specialty).where(Specialty.id.in_(values.specialty_ids)))
    )
    if len(specialties) != len(set(values.specialty_ids)):
        raise InvalidInput(gettext("Unknown specialty."), field="specialty_ids")
    if values.fee_amount < 0:
        raise InvalidInput(gettext("The fee cannot be negative."), field="fee_amount")
    doctor.clinic = clinic
    doctor.specialties = specialties
    doctor.fee_amount = values.fee_amount
    if clinic is not None:
        doctor.fee_currency = clinic.currency
    doctor.licence_number = _optional(values.licence_number, 64)
    doctor.bio = _optional(values.bio, 5000)
    doctor.requires_approval = values.requires_approval
    doctor.updated_by_id = actor.id
    audit.record(
        "admin.doctor_updated",
        actor_id=actor.id,
        target_type="doctor",
        target_id=doctor.id,
        data={
            "clinic_id": values.clinic_id,
            "specialty_ids": sorted(values.specialty_ids),
            "fee_amount": values.fee_amount,
            "requires_approval": values.requires_approval,
        },
        ip=ip,
    )
    return doctor


@use_case
def set_doctor_verified(
    doctor_id: int, verified: bool, *, actor_id: int, now: datetime, ip: str | None
) -> Doctor:
    """Record (or withdraw) that the doctor's credentials were checked. Raises Forbidden,
    NotFound."""
    actor = _actor(actor_id, "doctors.manage")
    doctor = managed_doctor(actor.id, doctor_id)
    if (doctor.verified_at is not None) == verified:
        return doctor
    doctor.verified_at = now if verified else None
    doctor.updated_by_id = actor.id
    audit.record(
        "admin.doctor_verified" if verified else "admin.doctor_unverified",
        actor_id=actor.id,
        target_type="doctor",
        target_id=doctor.id,
        ip=ip,
    )
    return doctor


def _actor(actor_id: int, permission: str) -> User:
    actor = load_actor(actor_id)
    if not has_permission(actor, permission):
        raise Forbidden()
    return actor


def _flush_or_name_taken(message: str) -> None:
    # The unique index decides; the use case rolls the failed flush back.
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise NameTaken(message, field="name") from exc


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _clean_clinic(values: ClinicInput) -> dict:
    name = (values.name or "").strip()
    city = (values.city or "").strip()
    if not name:
        raise InvalidInput(gettext("A clinic needs a name."), field="name")
    if not city:
        raise InvalidInput(gettext("A clinic needs a city."), field="city")
    timezone = (values.timezone or "").strip()
    if timezone not in _time_zones():
        raise InvalidInput(
            gettext("%(zone)r is not an IANA time zone (e.g. Europe/London).", zone=timezone),
            field="timezone",
        )
    currency = (values.currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput(
            gettext("A currency is a three-letter ISO code, e.g. USD."), field="currency"
        )
    if (values.latitude is None) != (values.longitude is None):
        raise InvalidInput(
            gettext("Give both latitude and longitude, or neither."), field="latitude"
        )
    if values.latitude is not None and not -90 <= values.latitude <= 90:
        raise InvalidInput(gettext("Latitude is between -90 and 90."), field="latitude")
    if values.longitude is not None and not -180 <= values.longitude <= 180:
        raise InvalidInput(gettext("Longitude is between -180 and 180."), field="longitude")
    if values.cancellation_window_hours < 0 or values.cancellation_window_hours > 24 * 30:
        raise InvalidInput(
            gettext("The cancellation window is between 0 and 720 hours."),
            field="cancellation_window_hours",
        )
    late_percent = values.late_cancellation_refund_percent
    if late_percent is not None and not 0 <= late_percent <= 100:
        raise InvalidInput(
            gettext("The late-cancellation refund is between 0 and 100 percent, or empty."),
            field="late_cancellation_refund_percent",
        )
    offsets = reminder_offsets(values.reminder_hours)
    if not 0 <= values.chat_days_after_visit <= 365:
        raise InvalidInput(
            gettext("Messaging after a visit stays open between 0 and 365 days."),
            field="chat_days_after_visit",
        )
    website = _optional(values.website, 255)
    if website and urlsplit(website).scheme not in ("http", "https"):
        raise InvalidInput(gettext("A website starts with https://."), field="website")
    email = _optional(values.email, 254)
    return {
        "name": name[:160],
        "city": city[:120],
        "address": _optional(values.address, 255),
        "timezone": timezone,
        "currency": currency,
        "latitude": values.latitude,
        "longitude": values.longitude,
        "phone": normalize_phone(values.phone),
        "email": normalize_email(email) if email else None,
        "website": website,
        "cancellation_window_hours": values.cancellation_window_hours,
        "accepts_cash": values.accepts_cash,
        "late_cancellation_refund_percent": late_percent,
        "chat_days_after_visit": values.chat_days_after_visit,
        "meeting_url_template": clean_meeting_template(values.meeting_url_template),
        **({"reminder_offsets": offsets} if offsets is not None else {}),
    }


MAX_REMINDERS = 4


def reminder_offsets(hours: str | None) -> list[int] | None:
    """'24, 2' -> [1440, 120] (minutes, longest first; halves allowed: '0.5'). Empty: no
    reminders; None: unchanged. Raises InvalidInput."""
    if hours is None:
        return None
    parts = [p for p in re.split(r"[,\s]+", hours.strip()) if p]
    problem = InvalidInput(
        gettext(
            "Give up to %(MAX_REMINDERS)s reminder times in hours before the visit, between 0.25 "
            "and 336 (two weeks), e.g. 24, 2.",
            MAX_REMINDERS=MAX_REMINDERS,
        ),
        field="reminder_hours",
    )
    if len(parts) > MAX_REMINDERS:
        raise problem
    minutes = set()
    for part in parts:
        try:
            value = float(part)
        except ValueError as exc:
            raise problem from exc
        if not 0.25 <= value <= 336:
            raise problem
        minutes.add(round(value * 60))
    return sorted(minutes, reverse=True)


def reminder_hours_text(offsets: list[int]) -> str:
    """[1440, 120] -> '24, 2' (for the form)."""
    return ", ".join(f"{m / 60:g}" for m in offsets)


def _specialty_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise InvalidInput(gettext("A specialty name has 1 to 80 characters."), field="name")
    return name


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise InvalidInput(gettext("A specialty name needs letters or digits."), field="name")
    return slug[:80]


def _optional(value: str | None, max_length: int) -> str | None:
    value = (value or "").strip()
    return value[:max_length] or None
