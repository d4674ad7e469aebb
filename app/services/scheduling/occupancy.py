"""Who occupies a slot or a patient's time now: the queries that booking (taking a slot) and
payments (re-taking a lapsed hold that was paid after all) both ask. A leaf: it imports no
other service, and it never commits (its callers' transactions do).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Slot, occupies_slot

# A card booking holds its slot this long while the patient pays.
HOLD_MINUTES = 5
HOLD = timedelta(minutes=HOLD_MINUTES)
# How long a card request may wait for the doctor: Stripe keeps an authorisation for 7 days.
APPROVAL_WAIT = timedelta(days=6)


def expire_lapsed_holds(now: datetime, *conditions) -> int:
    """Mark the lapsed payment holds (among `conditions`) expired; returns how many."""
    result = db.session.execute(
        update(Appointment)
        .where(
            Appointment.status == AppointmentStatus.PENDING_PAYMENT,
            Appointment.hold_expires_at <= now,
            *conditions,
        )
        .values(status=AppointmentStatus.EXPIRED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


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
