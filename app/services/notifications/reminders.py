"""Visit reminders: a sweep that sends every reminder due, once.

Each clinic sets its offsets (Clinic.reminder_offsets, minutes before the start; 24 h and
2 h by default). A reminder is due once its moment (start − offset) has come; it is written
to the outbox under the key (appointment, start, offset), so two sweeps at the same moment,
or a sweep run twice, write it once. A rescheduled visit is a new appointment with a new
start: it gets its own reminders, and the old one's are skipped at sending time (no longer
confirmed). A reminder whose moment passed long ago (more than a quarter of its offset, at
most GRACE_CAP) is not sent late, nor one whose moment came before the visit was booked:
nobody wants "your visit is tomorrow" ten minutes before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Clinic, Doctor
from app.models.clinics import DEFAULT_REMINDER_OFFSETS
from app.services.notifications.outbox import Notice, notify_all
from app.services.transaction import transaction

GRACE_CAP = timedelta(hours=6)
HORIZON_CAP = timedelta(days=14)  # offsets longer than this are not honoured
PAGE = 500


def grace(offset: timedelta) -> timedelta:
    return min(offset / 4, GRACE_CAP)


def send_due(*, now: datetime) -> int:
    """Write every reminder due at `now` to the outbox; returns how many were new."""
    longest = _longest_offset()
    written = 0
    after_id = 0
    while True:
        with transaction():
            page = db.session.scalars(
                select(Appointment)
                .join(Appointment.doctor)
                .where(
                    Appointment.status == AppointmentStatus.CONFIRMED,
                    Appointment.starts_at > now,
                    Appointment.starts_at <= now + longest,
                    Appointment.id > after_id,
                )
                .options(
                    joinedload(Appointment.patient),
                    joinedload(Appointment.doctor).joinedload(Doctor.clinic),
                )
                .order_by(Appointment.id)
                .limit(PAGE)
            ).all()
            written += len(notify_all([n for a in page for n in _due(a, now)]))
        if len(page) < PAGE:
            return written
        after_id = page[-1].id


def _longest_offset() -> timedelta:
    offsets = [max(o or [0]) for o in db.session.scalars(select(Clinic.reminder_offsets))]
    minutes = max([*offsets, *DEFAULT_REMINDER_OFFSETS])
    return min(timedelta(minutes=minutes), HORIZON_CAP)


def offsets_of(appointment: Appointment) -> list[timedelta]:
    clinic = appointment.doctor.clinic
    minutes = clinic.reminder_offsets if clinic is not None else DEFAULT_REMINDER_OFFSETS
    return [timedelta(minutes=int(m)) for m in minutes if int(m) > 0]


def _due(appointment: Appointment, now: datetime) -> list[Notice]:
    due_now = []
    booked_at = appointment.created_at
    for offset in offsets_of(appointment):
        due = appointment.starts_at - offset
        if due > now or now - due > grace(offset) or (booked_at is not None and due < booked_at):
            continue
        minutes = int(offset.total_seconds() // 60)
        due_now.append(
            Notice(
                appointment.patient,
                "appointment.reminder",
                key=f"reminder:{appointment.id}:{appointment.starts_at.isoformat()}:{minutes}",
                data={
                    "appointment_id": appointment.id,
                    "starts_at": appointment.starts_at.isoformat(),
                    "offset_minutes": minutes,
                },
            )
        )
    return due_now
