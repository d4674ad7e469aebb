"""Who is in a video room: the join/leave log of each appointment (VisitEvent rows, kept
for the doctor's record of the visit) and the live state derived from it.

A participant is in the room when their last event there is "joined" and they still have a
socket connected (realtime presence: a server process that died leaves no stale guest). A
"left" counts only from the socket of the last "joined": the same person opening the room in
a second window replaces the first, whose closing does not end the visit.

After each commit the other participant's room sockets hear `visit_peer` {"appointment_id",
"user_id", "state": "joined" | "left"}, and the doctor's sockets `visit_presence`
{"appointment_id"} (the dashboard's waiting list refreshes on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Doctor, Slot, SlotMode, User
from app.models.visits import VisitEvent, VisitEventKind
from app.services import access, realtime
from app.services.errors import AppointmentNotFound
from app.services.transaction import use_case
from app.services.visits import rooms
from app.services.visits.rooms import Visit


@dataclass(frozen=True)
class Joined:
    visit: Visit
    peer_present: bool


@dataclass(frozen=True)
class OpenRoom:
    """A video room open now, as the doctor's dashboard lists it."""

    appointment: Appointment
    patient_in: bool
    doctor_in: bool

    @property
    def patient_waiting(self) -> bool:
        return self.patient_in and not self.doctor_in


def _last_event(appointment_id: int, user_id: int) -> VisitEvent | None:
    return db.session.scalar(
        select(VisitEvent)
        .where(VisitEvent.appointment_id == appointment_id, VisitEvent.user_id == user_id)
        .order_by(VisitEvent.at.desc(), VisitEvent.id.desc())
        .limit(1)
    )


def is_present(appointment_id: int, user_id: int) -> bool:
    last = _last_event(appointment_id, user_id)
    return (
        last is not None and last.kind is VisitEventKind.JOINED and realtime.is_connected(user_id)
    )


def _announce(visit: Visit, state: VisitEventKind) -> None:
    appointment_id = visit.appointment.id
    realtime.publish(
        realtime.visit_room(appointment_id, visit.other_user_id),
        "visit_peer",
        {"appointment_id": appointment_id, "user_id": visit.user_id, "state": state.value},
    )
    realtime.publish(
        realtime.user_room(visit.doctor_user_id),
        "visit_presence",
        {"appointment_id": appointment_id},
    )


@use_case
def record_join(*, appointment_id: int, user_id: int, socket_id: str, now: datetime) -> Joined:
    """A participant's socket entered the open room: logged, and the other side told.
    Raises VisitNotFound, VisitNotOpen, Forbidden."""
    visit = rooms.open_visit(appointment_id=appointment_id, user_id=user_id, now=now)
    if visit.external_url is not None:
        raise rooms.VisitNotOpen(
            gettext("This clinic holds its video visits at an external meeting link.")
        )
    db.session.add(
        VisitEvent(
            appointment_id=appointment_id,
            user_id=user_id,
            kind=VisitEventKind.JOINED,
            at=now,
            socket_id=socket_id,
        )
    )
    _announce(visit, VisitEventKind.JOINED)
    return Joined(visit=visit, peer_present=is_present(appointment_id, visit.other_user_id))


@use_case
def record_leave(*, appointment_id: int, user_id: int, socket_id: str, now: datetime) -> bool:
    """The socket left the room (hung up, or disconnected): logged when it is the socket the
    participant last joined from; True then. Allowed after the room closed, too. Raises
    VisitNotFound, Forbidden."""
    visit = rooms.visit_for(appointment_id=appointment_id, user_id=user_id, now=now)
    last = _last_event(appointment_id, user_id)
    if last is None or last.kind is not VisitEventKind.JOINED or last.socket_id != socket_id:
        return False
    db.session.add(
        VisitEvent(
            appointment_id=appointment_id,
            user_id=user_id,
            kind=VisitEventKind.LEFT,
            at=now,
            socket_id=socket_id,
        )
    )
    _announce(visit, VisitEventKind.LEFT)
    return True


def visit_log(*, appointment_id: int, viewer_id: int) -> list[VisitEvent]:
    """Who joined and left the appointment's room, oldest first: for its doctor only (raises
    AppointmentNotFound for anyone else)."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not access.is_the_doctor(
        access.load_actor(viewer_id), appointment.doctor
    ):
        raise AppointmentNotFound()
    return list(
        db.session.scalars(
            select(VisitEvent)
            .where(VisitEvent.appointment_id == appointment_id)
            .order_by(VisitEvent.at, VisitEvent.id)
            .options(joinedload(VisitEvent.user))
        )
    )


def open_rooms(*, doctor_user_id: int, now: datetime) -> list[OpenRoom]:
    """The doctor's video rooms open now (Carebook's own, not external links), earliest
    first, with who is in each."""
    user = db.session.get(User, doctor_user_id)
    doctor = access.doctor_of(user) if user is not None else None
    if doctor is None:
        return []
    appointments = db.session.scalars(
        select(Appointment)
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(
            Appointment.doctor_id == doctor.id,
            Appointment.status.in_((AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED)),
            Slot.mode == SlotMode.VIDEO,
            Appointment.starts_at <= now + rooms.OPENS_BEFORE,
            Appointment.ends_at >= now - rooms.CLOSES_AFTER,
        )
        .order_by(Appointment.starts_at)
        .options(
            joinedload(Appointment.patient),
            joinedload(Appointment.doctor).joinedload(Doctor.clinic),
        )
    ).all()
    return [
        OpenRoom(
            appointment=a,
            patient_in=is_present(a.id, a.patient_id),
            doctor_in=is_present(a.id, doctor_user_id),
        )
        for a in appointments
        if rooms.meeting_link(a) is None
    ]
