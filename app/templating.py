"""Jinja filters for showing times in a clinic's zone and money in minor units, and how an
appointment's status reads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NamedTuple

from flask import Flask, url_for
from markupsafe import Markup

from app.models import AppointmentStatus, Doctor
from app.services.languages import language_names
from app.services.localtime import zone
from app.services.payments.money import format_money
from app.services.photos import photo_filename


def local(value: datetime | None, timezone: str) -> datetime | None:
    """A UTC datetime in the given IANA zone."""
    return value.astimezone(zone(timezone)) if value is not None else None


def local_format(value: datetime | None, timezone: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """E.g. 'Mon 09 Mar 2026, 09:00 EDT'."""
    if value is None:
        return ""
    shown = value.astimezone(zone(timezone))
    return f"{shown.strftime(fmt)} {shown.tzname()}"


def clinic_time(value: datetime | None, timezone: str, fmt: str = "%a %d %b %Y, %H:%M") -> Markup:
    """A time shown in the clinic's zone, as a <time> element that static/js/localtime.js
    annotates with the viewer's own time when their zone differs."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}" data-clinic-zone="{}">{}</time>').format(
        value.isoformat(), timezone, local_format(value, timezone, fmt)
    )


def money(amount: int | None, currency: str) -> str:
    """Minor units to a readable amount: 9000 USD -> 'USD 90.00'."""
    if amount is None:
        return ""
    return format_money(amount, currency)


class StatusLabel(NamedTuple):
    patient: str
    doctor: str


# How each status reads, in one table: the patient's pages say what happened to them, the
# doctor's pages use the shorter working names.
STATUS_LABELS: dict[AppointmentStatus, StatusLabel] = {
    AppointmentStatus.PENDING_PAYMENT: StatusLabel("Awaiting payment", "Awaiting payment"),
    AppointmentStatus.PENDING_APPROVAL: StatusLabel(
        "Awaiting the doctor's approval", "Pending approval"
    ),
    AppointmentStatus.CONFIRMED: StatusLabel("Confirmed", "Confirmed"),
    AppointmentStatus.COMPLETED: StatusLabel("Completed", "Completed"),
    AppointmentStatus.NO_SHOW: StatusLabel("Missed", "No-show"),
    AppointmentStatus.CANCELLED: StatusLabel("Cancelled", "Cancelled"),
    AppointmentStatus.REJECTED: StatusLabel("Declined by the doctor", "Rejected"),
    AppointmentStatus.EXPIRED: StatusLabel("Expired (not paid in time)", "Expired"),
}


def status_label(status: AppointmentStatus, audience: Literal["patient", "doctor"]) -> str:
    """The status as the patient's or the doctor's pages show it."""
    label = STATUS_LABELS.get(status)
    if label is None:
        return str(status).replace("_", " ").capitalize()
    return getattr(label, audience)


def doctor_photo_url(doctor: Doctor, size: int) -> str | None:
    """Where one size of the doctor's photo is served; None without a photo."""
    if doctor.photo_hash is None:
        return None
    return url_for(
        "main.doctor_photo",
        doctor_id=doctor.id,
        filename=photo_filename(doctor.photo_hash, size),
    )


def initials(name: str) -> str:
    """'Dr. Maya Chen' -> 'MC': the placeholder shown where a doctor has no photo."""
    words = [w for w in name.replace(".", ". ").split() if not w.endswith(".")] or name.split()
    letters = [w[0] for w in words if w[0].isalnum()]
    return "".join(letters[:1] + letters[-1:] if len(letters) > 1 else letters).upper()


def spoken(doctor: Doctor) -> str:
    """'English, Spanish': the languages the doctor speaks, by name ('' for none)."""
    return ", ".join(language_names(doctor.language_codes))


def init_templating(app: Flask) -> None:
    app.add_template_global(doctor_photo_url, "doctor_photo_url")
    app.add_template_filter(initials, "initials")
    app.add_template_filter(spoken, "spoken")
    app.add_template_filter(local, "local")
    app.add_template_filter(local_format, "local_format")
    app.add_template_filter(clinic_time, "clinic_time")
    app.add_template_filter(money, "money")
