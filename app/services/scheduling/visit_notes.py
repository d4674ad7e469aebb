"""A doctor's view of one appointment: the patient's note and profile, earlier visits with
this doctor, how to reach the patient, and the doctor's private visit notes.

Only the appointment's own doctor sees any of it: to anyone else the appointment does not
exist (AppointmentNotFound, a 404), so a doctor cannot learn about another doctor's patients.
Visit notes are sealed at rest (services/sealing.py) and audited when written; their text
never goes into the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Appointment, AppointmentStatus, PatientProfile, VisitNote
from app.services import access, audit, sealing
from app.services.errors import AppointmentNotFound, InvalidInput
from app.services.transaction import use_case

MAX_NOTE_CHARS = 5000
MAX_PREVIOUS = 50


@dataclass(frozen=True)
class ShownNote:
    text: str
    written_at: datetime
    author_name: str | None


@dataclass(frozen=True)
class PatientRecord:
    appointment: Appointment
    profile: PatientProfile | None
    previous: list[Appointment]
    notes: list[ShownNote]

    @property
    def patient(self):
        return self.appointment.patient

    def age_on(self, day: date) -> int | None:
        born = self.profile.date_of_birth if self.profile else None
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _own_appointment(appointment_id: int, actor_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not access.is_the_doctor(
        access.load_actor(actor_id), appointment.doctor
    ):
        raise AppointmentNotFound()
    return appointment


def patient_record(*, appointment_id: int, actor_id: int) -> PatientRecord:
    """What the appointment's doctor sees of it. Raises AppointmentNotFound for anyone but
    that doctor, Forbidden for an unknown or deactivated actor."""
    appointment = _own_appointment(appointment_id, actor_id)
    previous = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.doctor_id == appointment.doctor_id,
            Appointment.patient_id == appointment.patient_id,
            Appointment.id != appointment.id,
            Appointment.starts_at < appointment.starts_at,
            Appointment.status != AppointmentStatus.EXPIRED,
        )
        .order_by(Appointment.starts_at.desc())
        .limit(MAX_PREVIOUS)
        .options(selectinload(Appointment.slot))
    ).all()
    notes = db.session.scalars(
        select(VisitNote)
        .where(VisitNote.appointment_id == appointment.id)
        .order_by(VisitNote.created_at, VisitNote.id)
        .options(selectinload(VisitNote.author))
    ).all()
    return PatientRecord(
        appointment=appointment,
        profile=appointment.patient.patient_profile,
        previous=list(previous),
        notes=[
            ShownNote(sealing.unseal(n.body_sealed), n.created_at, n.author and n.author.name)
            for n in notes
        ],
    )


@use_case
def add_visit_note(*, appointment_id: int, actor_id: int, text: str, now: datetime) -> VisitNote:
    """The appointment's doctor writes a private note on the visit (sealed at rest).

    Raises AppointmentNotFound (not their appointment), InvalidInput (empty or too long)."""
    appointment = _own_appointment(appointment_id, actor_id)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(gettext("Write something first."), field="text")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(
            gettext(
                "A note holds at most %(MAX_NOTE_CHARS)s characters.", MAX_NOTE_CHARS=MAX_NOTE_CHARS
            ),
            field="text",
        )
    note = VisitNote(
        appointment_id=appointment.id,
        author_id=actor_id,
        body_sealed=sealing.seal(text),
        created_at=now,
    )
    db.session.add(note)
    db.session.flush()
    audit.record(
        "visit_note.added",
        actor_id=actor_id,
        target_type="appointment",
        target_id=appointment.id,
        data={"note_id": note.id, "patient_id": appointment.patient_id, "chars": len(text)},
    )
    return note
