"""Who may enter an appointment's video room, and when.

A room exists for a video appointment that reached confirmation (confirmed, completed, or
a no-show, which closes it). It is open to the appointment's patient and its doctor only, from
OPENS_BEFORE the start until CLOSES_AFTER the end; before and after it the page says when it
opens or that it closed. To anyone else, and for any other appointment, it does not exist
(VisitNotFound, a 404): nobody learns of someone else's visit.

A clinic may send its video visits to an external meeting provider instead
(Clinic.meeting_url_template): the link is given only while the room is open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext, lazy_gettext

from app.extensions import db
from app.models import Appointment, AppointmentStatus, SlotMode, User
from app.services import access
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.links import public_url

OPENS_BEFORE = timedelta(minutes=10)
CLOSES_AFTER = timedelta(minutes=30)
S = AppointmentStatus
# Reached confirmation and not cancelled since. A no-show's room is closed.
ROOM_STATUSES = (S.CONFIRMED, S.COMPLETED, S.NO_SHOW)
PLACEHOLDERS = ("{appointment_id}", "{token}")
MAX_TEMPLATE_LENGTH = 500


class VisitNotFound(NotFound):
    code = "visit_not_found"
    default_message = lazy_gettext("There is no such video visit (or it is not yours).")


class VisitNotOpen(Conflict):
    code = "visit_not_open"
    default_message = lazy_gettext("The video room is not open now.")


class Phase(StrEnum):
    EARLY = "early"  # opens later
    OPEN = "open"
    CLOSED = "closed"  # the window has passed, or the visit was marked a no-show


class Side(StrEnum):
    PATIENT = "patient"
    DOCTOR = "doctor"


@dataclass(frozen=True)
class Visit:
    appointment: Appointment
    user_id: int
    side: Side
    phase: Phase
    opens_at: datetime
    closes_at: datetime
    external_url: str | None  # the clinic's meeting link: only while the room is open

    @property
    def is_doctor(self) -> bool:
        return self.side is Side.DOCTOR

    @property
    def other_user_id(self) -> int:
        if self.side is Side.DOCTOR:
            return self.appointment.patient_id
        return self.appointment.doctor.user_id

    @property
    def other_name(self) -> str:
        if self.side is Side.DOCTOR:
            return self.appointment.patient.name
        return self.appointment.doctor.name

    @property
    def doctor_user_id(self) -> int:
        return self.appointment.doctor.user_id


def opens_at(appointment: Appointment) -> datetime:
    return appointment.starts_at - OPENS_BEFORE


def closes_at(appointment: Appointment) -> datetime:
    return appointment.ends_at + CLOSES_AFTER


def is_video(appointment: Appointment) -> bool:
    return appointment.slot.mode is SlotMode.VIDEO


def has_room(appointment: Appointment) -> bool:
    """A video appointment that reached confirmation and was not cancelled since."""
    return is_video(appointment) and appointment.status in ROOM_STATUSES


def phase_of(appointment: Appointment, now: datetime) -> Phase:
    if appointment.status is S.NO_SHOW or now > closes_at(appointment):
        return Phase.CLOSED
    if now < opens_at(appointment):
        return Phase.EARLY
    return Phase.OPEN


def side_of(user: User, appointment: Appointment) -> Side | None:
    if appointment.patient_id == user.id:
        return Side.PATIENT
    if access.is_the_doctor(user, appointment.doctor):
        return Side.DOCTOR
    return None


def visit_for(*, appointment_id: int, user_id: int, now: datetime) -> Visit:
    """The visit as one of its two participants sees it, whatever the time. Raises
    VisitNotFound for anyone else, for a missing, in-person or unconfirmed appointment, and
    Forbidden for an unknown or deactivated user."""
    user = access.load_actor(user_id)
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not has_room(appointment):
        raise VisitNotFound()
    side = side_of(user, appointment)
    if side is None:
        raise VisitNotFound()
    phase = phase_of(appointment, now)
    return Visit(
        appointment=appointment,
        user_id=user.id,
        side=side,
        phase=phase,
        opens_at=opens_at(appointment),
        closes_at=closes_at(appointment),
        external_url=meeting_link(appointment) if phase is Phase.OPEN else None,
    )


def open_visit(*, appointment_id: int, user_id: int, now: datetime) -> Visit:
    """visit_for, and the room is open now (VisitNotOpen otherwise, before or after)."""
    visit = visit_for(appointment_id=appointment_id, user_id=user_id, now=now)
    if visit.phase is not Phase.OPEN:
        raise VisitNotOpen(
            gettext("The video room opens 10 minutes before the visit.")
            if visit.phase is Phase.EARLY
            else gettext("The video room of this visit has closed.")
        )
    return visit


def room_path(appointment_id: int) -> str:
    return f"/visits/{appointment_id}"


def visit_summary(appointment: Appointment, viewer: User, now: datetime) -> dict | None:
    """The API's "visit" of an appointment: {"url", "opens_at", "closes_at"} for a video
    appointment (None otherwise). The url is the clinic's external link while the room is
    open, for the two participants; Carebook's room page otherwise."""
    if not is_video(appointment):
        return None
    url = public_url("visits.room", appointment_id=appointment.id)
    if (
        has_room(appointment)
        and phase_of(appointment, now) is Phase.OPEN
        and side_of(viewer, appointment) is not None
        and (link := meeting_link(appointment)) is not None
    ):
        url = link
    return {"url": url, "opens_at": opens_at(appointment), "closes_at": closes_at(appointment)}


# -- the external meeting link -------------------------------------------------------------


def visit_token(appointment_id: int) -> str:
    """An unguessable token of one appointment's external meeting: an HMAC of its id under a
    key derived from SECRET_KEY (nothing stored; the same on every server process)."""
    key = hashlib.sha256(b"carebook-visit-token:" + current_app.secret_key.encode()).digest()
    digest = hmac.new(key, f"visit:{appointment_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def meeting_link(appointment: Appointment) -> str | None:
    """The clinic's external meeting URL for this appointment (None: Carebook's own room)."""
    clinic = appointment.doctor.clinic
    template = clinic.meeting_url_template if clinic else None
    if not template:
        return None
    return template.replace("{appointment_id}", str(appointment.id)).replace(
        "{token}", visit_token(appointment.id)
    )


def clean_meeting_template(raw: str | None) -> str | None:
    """A clinic's meeting URL template as stored: None when empty; else an https URL with a
    host that contains {appointment_id} and/or {token} and no other {placeholder}. Raises
    InvalidInput."""
    template = (raw or "").strip()
    if not template:
        return None
    field = "meeting_url_template"
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise InvalidInput(
            gettext(
                "The meeting link is at most %(MAX_TEMPLATE_LENGTH)s characters.",
                MAX_TEMPLATE_LENGTH=MAX_TEMPLATE_LENGTH,
            ),
            field=field,
        )
    if not any(p in template for p in PLACEHOLDERS):
        raise InvalidInput(
            gettext(
                "The meeting link needs {appointment_id} or {token} (best both), so that each "
                "visit gets its own meeting."
            ),
            field=field,
        )
    bare = template
    for placeholder in PLACEHOLDERS:
        bare = bare.replace(placeholder, "x")
    if "{" in bare or "}" in bare:
        raise InvalidInput(
            gettext("The meeting link may use only {appointment_id} and {token}."), field=field
        )
    if re.search(r"[\s\"'<>\\]", bare) or any(ord(ch) < 0x20 for ch in bare):
        raise InvalidInput(
            gettext("The meeting link cannot contain spaces or quotes."), field=field
        )
    parts = urlsplit(bare)
    if parts.scheme != "https" or not parts.hostname or "{" in (urlsplit(template).netloc):
        raise InvalidInput(
            gettext(
                "The meeting link is an https:// address with a fixed host, e.g. "
                "https://meet.jit.si/carebook-{appointment_id}-{token}."
            ),
            field=field,
        )
    return template
