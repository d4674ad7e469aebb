"""The events a booking goes through, as notifications: each function is called inside the
transaction that makes the change, and writes the rows for everyone who should hear of it.

Dedupe keys name the event once per appointment, so a repeated call (a webhook and the
checkout page both settling one payment) tells nobody twice.
"""

from __future__ import annotations

from app.models import Appointment, AppointmentStatus, User
from app.services.notifications.outbox import Notice, notify, notify_all

S = AppointmentStatus


def _ids(appointment: Appointment, **extra) -> dict:
    return {"appointment_id": appointment.id, **extra}


def booked(appointment: Appointment) -> None:
    """A new appointment is confirmed, or is a request waiting for the doctor."""
    doctor_user = appointment.doctor.user
    if appointment.status is S.CONFIRMED:
        key = f"appointment:{appointment.id}:confirmed"
        # Both at once: one preferences query, one insert (booking is a hot path).
        notify_all(
            [
                Notice(appointment.patient, "appointment.confirmed", key, _ids(appointment)),
                Notice(
                    doctor_user,
                    "appointment.booked_for_doctor",
                    f"{key}:doctor",
                    _ids(appointment),
                ),
            ]
        )
    elif appointment.status is S.PENDING_APPROVAL:
        notify(
            doctor_user,
            "appointment.awaiting_approval",
            key=f"appointment:{appointment.id}:requested",
            data=_ids(appointment),
        )


def _tell_patient(appointment: Appointment, kind: str, event: str, **extra) -> None:
    key = f"appointment:{appointment.id}:{event}"
    notify(appointment.patient, kind, key=key, data=_ids(appointment, **extra))


def approved(appointment: Appointment) -> None:
    _tell_patient(appointment, "appointment.approved", "approved")


def rejected(appointment: Appointment) -> None:
    _tell_patient(appointment, "appointment.rejected", "rejected")


def rescheduled(old: Appointment, new: Appointment, actor: User) -> None:
    """Both sides hear of a move (the one who made it too: it is their confirmation)."""
    data = _ids(new, from_id=old.id)
    for user in (new.patient, new.doctor.user):
        notify(
            user,
            "appointment.rescheduled",
            key=f"appointment:{new.id}:moved-to:{user.id}",
            data=data,
        )


def cancelled(appointment: Appointment, actor: User, *, refund_amount: int | None) -> None:
    """The patient always hears of it (with the refund it brings, and the calendar's CANCEL),
    the doctor unless they cancelled it themselves."""
    by = (
        "patient"
        if actor.id == appointment.patient_id
        else ("doctor" if actor.id == appointment.doctor.user_id else "clinic")
    )
    data = _ids(appointment, by=by, refund_amount=refund_amount)
    key = f"appointment:{appointment.id}:cancelled"
    notify(appointment.patient, "appointment.cancelled", key=f"{key}:patient", data=data)
    if by != "doctor":
        notify(appointment.doctor.user, "appointment.cancelled", key=f"{key}:doctor", data=data)


def approval_lapsed(appointment: Appointment) -> None:
    _tell_patient(
        appointment,
        "appointment.approval_lapsed",
        "approval-lapsed",
        doctor_id=appointment.doctor_id,
    )
