"""Who occupies a slot or a patient's time now: the queries that booking (taking a slot) and
payments (re-taking a lapsed hold that was paid after all) both ask, and `announce`, how both
tell the live pages that an appointment changed (realtime, after the commit). A leaf: it
imports no other service but realtime, and it never commits (its callers' transactions do).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from app.extensions import db
from app.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Doctor, Slot, occupies_slot
from app.services import realtime

# A card booking holds its slot this long while the patient pays.
HOLD_MINUTES = 5
HOLD = timedelta(minutes=HOLD_MINUTES)
# How long a card request may wait for the doctor: Stripe keeps an authorisation for 7 days.
APPROVAL_WAIT = timedelta(days=6)
# The ends that give a slot back (a no-show or a completed visit keeps its past slot).
FREEING_STATUSES = (
    AppointmentStatus.CANCELLED,
    AppointmentStatus.REJECTED,
    AppointmentStatus.EXPIRED,
)


def expire_lapsed_holds(now: datetime, *conditions) -> int:
    """Mark the lapsed payment holds (among `conditions`) expired; returns how many. Each is
    announced (its slot freed, its patient's checkout told)."""
    expired = db.session.execute(
        update(Appointment)
        .where(*_lapsed(now), *conditions)
        .values(status=AppointmentStatus.EXPIRED, updated_at=now)
        .returning(
            Appointment.id, Appointment.slot_id, Appointment.doctor_id, Appointment.patient_id
        )
        .execution_options(synchronize_session=False)
    ).all()
    if expired:
        doctor_users = dict(
            db.session.execute(
                select(Doctor.id, Doctor.user_id).where(
                    Doctor.id.in_({row.doctor_id for row in expired})
                )
            ).all()
        )
        for row in expired:
            _publish(
                row.id,
                AppointmentStatus.EXPIRED,
                slot_id=row.slot_id,
                doctor_id=row.doctor_id,
                parties=(row.patient_id, doctor_users[row.doctor_id]),
                slot_state="free",
            )
    return len(expired)


def _lapsed(now: datetime) -> tuple:
    """Where an appointment is a payment hold that has lapsed."""
    return (
        Appointment.status == AppointmentStatus.PENDING_PAYMENT,
        Appointment.hold_expires_at <= now,
    )


def announce(appointment: Appointment, *, was: AppointmentStatus | None) -> None:
    """Tell the live pages, after the commit, that `appointment` moved from `was` (None: it
    is new) to its status now: `appointment` {"id", "status"} to its patient's and its
    doctor's rooms, and `slot` {"slot_id", "state"} to the doctor's public page when the
    change took the slot ("taken") or gave it back ("free")."""
    status = appointment.status
    if status is was:
        return
    taken_now = status in ACTIVE_STATUSES
    taken_before = was in ACTIVE_STATUSES
    slot_state = None
    if taken_now and not taken_before:
        slot_state = "taken"
    elif taken_before and status in FREEING_STATUSES:
        slot_state = "free"
    _publish(
        appointment.id,
        status,
        slot_id=appointment.slot_id,
        doctor_id=appointment.doctor_id,
        parties=(appointment.patient_id, appointment.doctor.user_id),
        slot_state=slot_state,
    )


def _publish(
    appointment_id: int,
    status: AppointmentStatus,
    *,
    slot_id: int,
    doctor_id: int,
    parties: tuple[int, int],
    slot_state: str | None,
) -> None:
    payload = {"id": appointment_id, "status": status.value}
    for user_id in dict.fromkeys(parties):
        realtime.publish(realtime.user_room(user_id), "appointment", payload)
    if slot_state is not None:
        realtime.publish(
            realtime.doctor_slots_room(doctor_id), "slot", {"slot_id": slot_id, "state": slot_state}
        )


def slot_and_patient_taken(slot: Slot, patient_id: int, now: datetime) -> tuple[bool, bool, bool]:
    """slot_taken and patient_busy in one statement, and whether a lapsed hold is left to
    expire on the slot or of the patient (`expire_lapsed_holds(now, holds_of(...))`, only
    then): (the slot is occupied, the patient has another appointment overlapping it, a
    lapsed hold)."""
    taken = select(Appointment.id).where(Appointment.slot_id == slot.id, occupies_slot(now))
    busy = select(Appointment.id).where(
        Appointment.patient_id == patient_id,
        occupies_slot(now),
        Appointment.starts_at < slot.end_at,
        Appointment.ends_at > slot.start_at,
    )
    lapsed = select(Appointment.id).where(*_lapsed(now), holds_of(slot.id, patient_id))
    row = db.session.execute(select(taken.exists(), busy.exists(), lapsed.exists())).one()
    return bool(row[0]), bool(row[1]), bool(row[2])


def holds_of(slot_id: int, patient_id: int):
    """Where an appointment is on the slot or the patient's: the holds whose lapse a booking
    of that slot by that patient must record before it inserts (the constraints count a
    pending_payment row until it is marked expired)."""
    return or_(Appointment.slot_id == slot_id, Appointment.patient_id == patient_id)


def slot_taken(slot_id: int, now: datetime, *, exclude: int | None = None) -> bool:
    """Whether an appointment (other than `exclude`) occupies the slot now."""
    stmt = select(Appointment.id).where(Appointment.slot_id == slot_id, occupies_slot(now))
    if exclude is not None:
        stmt = stmt.where(Appointment.id != exclude)
    return db.session.scalar(stmt.limit(1)) is not None


def patient_busy(patient_id: int, slot: Slot, now: datetime, *, exclude: int | None = None) -> bool:
    """Whether the patient has another appointment (not `exclude`) overlapping the slot."""
    stmt = select(Appointment.id).where(
        Appointment.patient_id == patient_id,
        occupies_slot(now),
        Appointment.starts_at < slot.end_at,
        Appointment.ends_at > slot.start_at,
    )
    if exclude is not None:
        stmt = stmt.where(Appointment.id != exclude)
    return db.session.scalar(stmt.limit(1)) is not None
