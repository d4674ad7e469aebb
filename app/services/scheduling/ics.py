"""Calendar files: an appointment as an iCalendar (.ics) event."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event, vText

from app.models import Appointment, AppointmentStatus, SlotMode


def appointment_ics(appointment: Appointment, *, now: datetime, host: str) -> bytes:
    """One VEVENT with the visit's times (UTC), place and status; cancelled visits say so."""
    doctor = appointment.doctor
    clinic = doctor.clinic
    calendar = Calendar()
    calendar.add("prodid", "-//Carebook//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@{host}")
    event.add("dtstamp", now)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    video = appointment.slot.mode is SlotMode.VIDEO
    event.add("summary", f"{'Video visit' if video else 'Visit'} with {doctor.name}")
    if clinic is not None and not video:
        event["location"] = vText(
            ", ".join(p for p in (clinic.name, clinic.address, clinic.city) if p)
        )
    event.add(
        "description", f"Carebook appointment #{appointment.id} ({appointment.status.value})."
    )
    cancelled = appointment.status in (
        AppointmentStatus.CANCELLED,
        AppointmentStatus.REJECTED,
        AppointmentStatus.EXPIRED,
    )
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
