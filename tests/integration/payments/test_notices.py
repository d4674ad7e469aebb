"""What a card patient is told: the confirmation once paid, the refund when they cancel (with
its amount and a receipt link), the released hold when a request is declined."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services.payments import cards
from app.services.scheduling import booking


@pytest.fixture
def mail(app, smtp_server, inbox, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.port)
    return inbox


def test_paying_confirms_by_mail_and_cancelling_mails_the_refund_with_a_receipt(
    mail, hold, patient, authorize, now
):
    assert mail.to(patient.email) == []  # a hold is not a booking: nothing to tell yet
    authorize(hold)
    paid = cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    [booked] = mail.to(patient.email)
    assert booked.subject.startswith("Booked: ")

    booking.cancel_appointment(appointment_id=paid.id, actor_id=patient.id, now=now)

    subjects = [m.subject for m in mail.to(patient.email)]
    assert subjects[1].startswith("Cancelled: ")
    assert "120.00 goes back to your card" in mail.to(patient.email)[1].body
    assert subjects[2] == "Refund issued: USD 120.00"
    assert "/receipts/refunds/" in mail.to(patient.email)[2].body
    assert len(subjects) == 3


def test_a_declined_request_tells_the_patient_nothing_was_charged(
    mail, doctor, hold, patient, authorize, now
):
    doctor.requires_approval = True
    db.session.commit()
    authorize(hold)
    request_ = cards.confirm_paid(appointment_id=hold.appointment.id, actor_id=patient.id, now=now)
    [asked] = mail.to(doctor.user.email)
    assert asked.subject.startswith("Booking request: ")

    booking.reject_appointment(appointment_id=request_.id, actor_id=doctor.user_id, now=now)

    declined = [m for m in mail.to(patient.email) if m.subject.startswith("Request declined")]
    assert len(declined) == 1
    assert "Nothing was charged" in declined[0].body
