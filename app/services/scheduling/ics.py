"""Calendar files: a visit as an iCalendar (.ics) event that a calendar app keeps up to date.

One visit is one event across reschedules: its UID comes from the first appointment of the
chain (a reschedule makes a new appointment row), and SEQUENCE counts the revisions, so an
imported event is updated in place rather than duplicated. An appointment moved since
answers with the visit as it is now; a cancelled visit is a METHOD:CANCEL of the same event.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext, lazy_gettext
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, SlotMode

S = AppointmentStatus
ENDED = (S.CANCELLED, S.REJECTED, S.EXPIRED)
PENDING = (S.PENDING_PAYMENT, S.PENDING_APPROVAL)
WORDING = {
    S.PENDING_PAYMENT: lazy_gettext("Held for you while you pay: not booked yet."),
    S.PENDING_APPROVAL: lazy_gettext("Requested: the doctor has not confirmed it yet."),
    S.CONFIRMED: lazy_gettext("Confirmed."),
    S.COMPLETED: lazy_gettext("Completed."),
    S.NO_SHOW: lazy_gettext("Marked as missed."),
    S.CANCELLED: lazy_gettext("Cancelled."),
    S.REJECTED: lazy_gettext("Declined by the doctor."),
    S.EXPIRED: lazy_gettext("The hold ended before it was paid."),
}
MAX_CHAIN = 100  # reschedules followed, at most (a loop guard, not a policy)


def _first_of_chain(appointment: Appointment) -> tuple[Appointment, int]:
    """The visit's first appointment and how many reschedules led to this one."""
    first, moves = appointment, 0
    while first.rescheduled_from is not None and moves < MAX_CHAIN:
        first, moves = first.rescheduled_from, moves + 1
    return first, moves


def _current_of_chain(appointment: Appointment) -> Appointment:
    """The appointment this one was moved to, and so on: the visit as it is now."""
    current = appointment
    for _ in range(MAX_CHAIN):
        moved_to = db.session.scalar(
            select(Appointment).where(Appointment.rescheduled_from_id == current.id)
        )
        if moved_to is None:
            return current
        current = moved_to
    return current


def _uid_domain() -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or "http://carebook.invalid"
    return urlsplit(base).hostname or "carebook.invalid"


def appointment_ics(
    appointment: Appointment, *, now: datetime, invite_to: str | None = None
) -> bytes:
    """The visit of `appointment` (as it is now) as one VEVENT, times in UTC.

    `invite_to` (an email address) makes it an invitation for email (METHOD:REQUEST with an
    organizer and that attendee, so mail clients offer to add it and later update it);
    without it, a download (METHOD:PUBLISH). An ended visit is METHOD:CANCEL either way."""
    visit = _current_of_chain(appointment)
    first, moves = _first_of_chain(visit)
    ended = visit.status in ENDED
    doctor = visit.doctor
    clinic = doctor.clinic
    video = visit.slot.mode is SlotMode.VIDEO

    calendar = Calendar()
    calendar.add("prodid", "-//Carebook//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if ended else "REQUEST" if invite_to else "PUBLISH")
    event = Event()
    event.add("uid", f"visit-{first.id}@{_uid_domain()}")
    event.add("sequence", moves + (1 if ended else 0))
    event.add("dtstamp", now)
    event.add("dtstart", visit.starts_at)
    event.add("dtend", visit.ends_at)
    pending = visit.status in PENDING
    # In the language of the page or the mail it comes with (app/i18n.py).
    if video:
        summary = (
            gettext("Video visit with %(doctor)s (not confirmed yet)", doctor=doctor.name)
            if pending
            else gettext("Video visit with %(doctor)s", doctor=doctor.name)
        )
    else:
        summary = (
            gettext("Visit with %(doctor)s (not confirmed yet)", doctor=doctor.name)
            if pending
            else gettext("Visit with %(doctor)s", doctor=doctor.name)
        )
    event.add("summary", summary)
    if clinic is not None and not video:
        event["location"] = vText(
            ", ".join(p for p in (clinic.name, clinic.address, clinic.city) if p)
        )
    state = str(WORDING[visit.status])
    if video:
        description = gettext(
            "Video visit with %(doctor)s by video, booked on Carebook. %(state)s",
            doctor=doctor.name,
            state=state,
        )
    elif clinic is not None:
        description = gettext(
            "Visit with %(doctor)s at %(clinic)s, booked on Carebook. %(state)s",
            doctor=doctor.name,
            clinic=clinic.name,
            state=state,
        )
    else:
        description = gettext(
            "Visit with %(doctor)s in person, booked on Carebook. %(state)s",
            doctor=doctor.name,
            state=state,
        )
    event.add("description", description)
    event.add("status", "CANCELLED" if ended else "TENTATIVE" if pending else "CONFIRMED")
    if invite_to:
        sender = parseaddr(current_app.config["MAIL_FROM"])[1] or f"no-reply@{_uid_domain()}"
        organizer = vCalAddress(f"mailto:{sender}")
        organizer.params["cn"] = vText(clinic.name if clinic else "Carebook")
        event["organizer"] = organizer
        attendee = vCalAddress(f"mailto:{invite_to}")
        attendee.params["cn"] = vText(visit.patient.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()
