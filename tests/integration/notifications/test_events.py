"""Every change that matters reaches the people concerned, once: mail through a real SMTP
server (with .ics invitations), in-app rows beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from app.extensions import db
from app.models import Notification, NotificationStatus, Role
from app.services.scheduling import booking
from tests.factories import make_user
from tests.integration.notifications.conftest import future_slot, in_app, run_worker


def _now():
    return datetime.now(UTC)


def _book(patient, slot):
    return booking.book_slot(
        patient_id=patient.id, slot_id=slot.id, payment_method="cash", notes=None, now=_now()
    )


def _event(received):
    calendar = Calendar.from_ical(received.attachment("invite.ics"))
    return calendar, next(iter(calendar.walk("VEVENT")))


def test_a_booking_through_the_queue_mails_the_patient_with_an_invitation_and_the_doctor(
    queued, inbox, doctor, patient
):
    appointment = _book(patient, future_slot(doctor))
    assert inbox.messages == []  # with REDIS_URL, mail leaves from the worker, not the request

    run_worker(queued)
    run_worker(queued)  # a second drain finds nothing to send again

    [mail] = inbox.to("pat@example.com")
    assert mail.subject.startswith("Booked: Visit with Dr. Ana Ruiz on ")
    assert "(Europe/Madrid)" in mail.subject  # the clinic's zone, named
    assert mail.message["Message-ID"].startswith("<notification-")
    assert mail.message.get_body(preferencelist=("html",)) is not None  # multipart text + HTML
    calendar, event = _event(mail)
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]).startswith(f"visit-{appointment.id}@")
    assert event["STATUS"] == "CONFIRMED"
    [note] = inbox.to(doctor.user.email)
    assert note.subject.startswith("New booking: Pat Doe, ")
    assert in_app(patient.id) == ["appointment.confirmed"]
    assert in_app(doctor.user_id) == ["appointment.booked_for_doctor"]
    statuses = set(db.session.scalars(db.select(Notification.status)))
    assert statuses == {NotificationStatus.SENT}


def test_reschedule_mails_both_with_the_same_calendar_uid_and_a_higher_sequence(
    mail_config, inbox, doctor, patient
):
    first = _book(patient, future_slot(doctor))
    [booked] = inbox.to("pat@example.com")
    _, before = _event(booked)

    moved = booking.reschedule_appointment(
        appointment_id=first.id,
        new_slot_id=future_slot(doctor, days=4).id,
        actor_id=patient.id,
        now=_now(),
    )

    mails = inbox.to("pat@example.com")
    assert [m.subject.split(":")[0] for m in mails] == ["Booked", "Moved"]
    _, after = _event(mails[-1])
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert "(was " in mails[-1].body
    doctor_mails = [m.subject.split(":")[0] for m in inbox.to(doctor.user.email)]
    assert doctor_mails == ["New booking", "Moved"]
    assert in_app(patient.id)[-1] == "appointment.rescheduled"
    assert moved.rescheduled_from_id == first.id


def test_a_cancellation_by_the_doctor_tells_the_patient_with_a_calendar_cancel(
    mail_config, inbox, doctor, patient
):
    appointment = _book(patient, future_slot(doctor))
    booking.cancel_appointment(
        appointment_id=appointment.id, actor_id=doctor.user_id, now=_now(), reason="ill"
    )
    mail = inbox.to("pat@example.com")[-1]
    assert mail.subject.startswith("Cancelled: ")
    assert "Dr. Ana Ruiz cancelled the visit" in mail.body
    calendar, event = _event(mail)
    assert (calendar["METHOD"], event["STATUS"]) == ("CANCEL", "CANCELLED")
    # The doctor cancelled it: they are not told of their own act.
    assert [m.subject.split(":")[0] for m in inbox.to(doctor.user.email)] == ["New booking"]


def test_a_patients_cancellation_tells_the_doctor(mail_config, inbox, doctor, patient):
    appointment = _book(patient, future_slot(doctor))
    booking.cancel_appointment(appointment_id=appointment.id, actor_id=patient.id, now=_now())
    note = inbox.to(doctor.user.email)[-1]
    assert note.subject.startswith("Cancelled: ")
    assert "Pat Doe cancelled the visit" in note.body


def test_requests_tell_the_doctor_then_the_patient_of_the_answer(
    mail_config, inbox, doctor, patient
):
    doctor.requires_approval = True
    db.session.commit()
    first = _book(patient, future_slot(doctor))
    second = _book(patient, future_slot(doctor, days=5))
    asks = inbox.to(doctor.user.email)
    assert [m.subject.split(":")[0] for m in asks] == ["Booking request", "Booking request"]
    assert inbox.to("pat@example.com") == []  # nothing is booked yet

    booking.approve_appointment(appointment_id=first.id, actor_id=doctor.user_id, now=_now())
    booking.reject_appointment(appointment_id=second.id, actor_id=doctor.user_id, now=_now())

    approved, rejected = inbox.to("pat@example.com")
    assert approved.subject.startswith("Approved: ")
    assert _event(approved)[0]["METHOD"] == "REQUEST"
    assert rejected.subject.startswith("Request declined: ")
    assert rejected.attachment("invite.ics") is None
    assert in_app(patient.id) == ["appointment.approved", "appointment.rejected"]


def test_a_freed_slot_tells_the_waiting_patients_by_mail(mail_config, inbox, doctor, patient):
    appointment = _book(patient, future_slot(doctor))
    waiting = make_user(Role.PATIENT, email="wait@example.com")
    day = appointment.starts_at.astimezone(ZoneInfo("Europe/Madrid")).date()
    booking.join_waitlist(patient_id=waiting.id, doctor_id=doctor.id, day=day, now=_now())
    booking.cancel_appointment(appointment_id=appointment.id, actor_id=patient.id, now=_now())
    [mail] = inbox.to("wait@example.com")
    assert mail.subject.startswith("A time came free with Dr. Ana Ruiz")
    assert f"/book/{appointment.slot_id}" in mail.body
    assert "first" in mail.body.lower()
    assert in_app(waiting.id) == ["waitlist.slot_free"]
