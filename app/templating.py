"""Jinja filters for showing times in a clinic's zone and money in minor units, and how an
appointment's status reads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NamedTuple

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.models import AppointmentStatus, Doctor, Role
from app.services.l10n import format_dt, format_number
from app.services.languages import language_names
from app.services.localtime import zone
from app.services.payments.money import format_money
from app.services.photos import photo_filename


def local(value: datetime | None, timezone: str) -> datetime | None:
    """A UTC datetime in the given IANA zone."""
    return value.astimezone(zone(timezone)) if value is not None else None


def local_format(value: datetime | None, timezone: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """E.g. 'Mon 09 Mar 2026, 09:00 EDT' (Spanish: 'lun 9 mar 2026, 09:00 EDT')."""
    if value is None:
        return ""
    shown = value.astimezone(zone(timezone))
    return f"{format_dt(shown, fmt)} {shown.tzname()}"


def clinic_time(value: datetime | None, timezone: str, fmt: str = "%a %d %b %Y, %H:%M") -> Markup:
    """A time shown in the clinic's zone, as a <time> element that static/js/localtime.js
    annotates with the viewer's own time when their zone differs."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}" data-clinic-zone="{}">{}</time>').format(
        value.isoformat(), timezone, local_format(value, timezone, fmt)
    )


def money(amount: int | None, currency: str) -> str:
    """Minor units to a readable amount: 9000 USD -> 'USD 90.00' (Spanish: '90,00 US$')."""
    if amount is None:
        return ""
    return format_money(amount, currency)


class StatusLabel(NamedTuple):
    patient: str
    doctor: str


# How each status reads, in one table: the patient's pages say what happened to them, the
# doctor's pages use the shorter working names.
STATUS_LABELS: dict[AppointmentStatus, StatusLabel] = {
    AppointmentStatus.PENDING_PAYMENT: StatusLabel(_l("Awaiting payment"), _l("Awaiting payment")),
    AppointmentStatus.PENDING_APPROVAL: StatusLabel(
        _l("Awaiting the doctor's approval"), _l("Pending approval")
    ),
    AppointmentStatus.CONFIRMED: StatusLabel(_l("Confirmed"), _l("Confirmed")),
    AppointmentStatus.COMPLETED: StatusLabel(_l("Completed"), _l("Completed")),
    AppointmentStatus.NO_SHOW: StatusLabel(_l("Missed"), _l("No-show")),
    AppointmentStatus.CANCELLED: StatusLabel(_l("Cancelled"), _l("Cancelled")),
    AppointmentStatus.REJECTED: StatusLabel(_l("Declined by the doctor"), _l("Rejected")),
    AppointmentStatus.EXPIRED: StatusLabel(_l("Expired (not paid in time)"), _l("Expired")),
}


def status_label(
    status: AppointmentStatus, audience: Literal["patient", "doctor"] = "patient"
) -> str:
    """The status as the patient's or the doctor's pages show it."""
    label = STATUS_LABELS.get(status)
    if label is None:
        return str(status).replace("_", " ").capitalize()
    return str(getattr(label, audience))


ROLE_LABELS: dict[Role, str] = {
    Role.PATIENT: _l("patient"),
    Role.DOCTOR: _l("doctor"),
    Role.ADMIN: _l("admin"),
    Role.HELPER: _l("helper"),
}


def role_label(role: Role) -> str:
    """The role as the header names it ('patient', 'paciente')."""
    return str(ROLE_LABELS.get(role, role.value))


# A card dispute's state as Stripe names it, as the pages say it.
DISPUTE_LABELS: dict[str, str] = {
    "warning_needs_response": _l("warning needs response"),
    "warning_under_review": _l("warning under review"),
    "warning_closed": _l("warning closed"),
    "needs_response": _l("needs response"),
    "under_review": _l("under review"),
    "won": _l("won"),
    "lost": _l("lost"),
}


def dispute_label(status: str | None) -> str:
    if not status:
        return ""
    return str(DISPUTE_LABELS.get(status, status.replace("_", " ")))


PAYMENT_STATUS_LABELS: dict[str, str] = {
    "requires_payment": _l("requires payment"),
    "authorized": _l("authorized"),
    "captured": _l("captured"),
    "refunded": _l("refunded"),
    "partially_refunded": _l("partially refunded"),
    "canceled": _l("canceled"),
    "failed": _l("failed"),
    "disputed": _l("disputed"),
}
# A slot on the doctor's availability page.
SLOT_STATE_LABELS: dict[str, str] = {
    "open": _l("open"),
    "booked": _l("booked"),
    "held": _l("held"),
    "blocked": _l("blocked"),
    "past": _l("past"),
}


# An appointment's status in the admin's working words (the status itself, in lower case).
STATUS_WORDS: dict[str, str] = {
    "pending_payment": _l("pending payment"),
    "pending_approval": _l("pending approval"),
    "confirmed": _l("confirmed"),
    "completed": _l("completed"),
    "no_show": _l("no show"),
    "cancelled": _l("cancelled"),
    "rejected": _l("rejected"),
    "expired": _l("expired"),
}


# Other stored values the admin pages show as they are, in the reader's language.
ENUM_WORDS: dict[str, str] = {
    "card": _l("card"),
    "cash": _l("cash"),
    "pending": _l("pending"),
    "verified": _l("verified"),
    "declined": _l("declined"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "skipped": _l("skipped"),
    "email": _l("email"),
    "sms": _l("text message"),
    "in_app": _l("in Carebook"),
    "patient": _l("patient"),
    "doctor": _l("doctor"),
    "admin": _l("admin"),
    "helper": _l("helper"),
}


def enum_label(value) -> str:
    """A stored value ('cash', 'verified', 'in_app') in words; unknown ones as they are."""
    raw = getattr(value, "value", value) or ""
    return str(ENUM_WORDS.get(raw, raw))


def status_words(status) -> str:
    """'pending approval': an appointment's status as the admin pages and receipts name it."""
    value = getattr(status, "value", status) or ""
    return str(STATUS_WORDS.get(value, value.replace("_", " ")))


def payment_status_label(status) -> str:
    """A payment's status in words ('partially refunded')."""
    value = getattr(status, "value", status) or ""
    return str(PAYMENT_STATUS_LABELS.get(value, value.replace("_", " ")))


def slot_state_label(state: str) -> str:
    return str(SLOT_STATE_LABELS.get(state, state))


def visit_event_label(event, viewer_id: int) -> str:
    """'You joined', 'Ann Lee left': one line of a video room's log."""
    joined = getattr(event.kind, "value", event.kind) == "joined"
    if event.user_id == viewer_id:
        return str(_l("You joined") if joined else _l("You left"))
    name = event.user.name
    return str(_l("%(name)s joined", name=name) if joined else _l("%(name)s left", name=name))


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
    app.add_template_global(role_label, "role_label")
    app.add_template_global(dispute_label, "dispute_label")
    app.add_template_global(payment_status_label, "payment_status_label")
    app.add_template_global(status_words, "status_words")
    app.add_template_global(enum_label, "enum_label")
    # The patient's wording; the patient and doctor areas bind their own (one argument).
    app.add_template_global(status_label, "status_label")
    app.add_template_global(slot_state_label, "slot_state_label")
    app.add_template_global(visit_event_label, "visit_event_label")
    app.add_template_filter(initials, "initials")
    app.add_template_filter(spoken, "spoken")
    app.add_template_filter(local, "local")
    app.add_template_filter(local_format, "local_format")
    app.add_template_filter(clinic_time, "clinic_time")
    app.add_template_filter(money, "money")
    # A date or datetime in the reader's language, no zone change: {{ day | dt('%a %d %b') }}.
    app.add_template_filter(format_dt, "dt")
    app.add_template_filter(format_number, "number")
