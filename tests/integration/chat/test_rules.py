"""Who may talk: a visit that reached confirmation opens the conversation; the patient writes
while a visit is upcoming and for the clinic's days after the last one; the doctor always."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import AppointmentStatus, Role
from app.services.chat import conversations, messages
from app.services.chat.errors import ChatClosed, NoSharedAppointment
from app.services.errors import Forbidden
from tests.factories import make_clinic, make_doctor, make_user
from tests.integration.chat.conftest import visit

S = AppointmentStatus
NOW = datetime.now(UTC)


@pytest.fixture
def doctor(ctx):
    return make_doctor(clinic=make_clinic(), name="Dr. Lee")


@pytest.fixture
def patient(ctx):
    return make_user(Role.PATIENT, name="Pat")


@pytest.mark.parametrize(
    "status", [S.PENDING_PAYMENT, S.PENDING_APPROVAL, S.REJECTED, S.EXPIRED, S.CANCELLED]
)
def test_a_visit_that_never_reached_confirmation_opens_no_conversation(doctor, patient, status):
    visit(doctor, patient, status=status)
    with pytest.raises(NoSharedAppointment):
        conversations.open_conversation(actor_id=patient.id, doctor_id=doctor.id, now=NOW)
    with pytest.raises(NoSharedAppointment):
        conversations.open_conversation(actor_id=doctor.user.id, patient_id=patient.id, now=NOW)


def test_a_visit_cancelled_after_confirmation_keeps_the_conversation_for_the_doctor(
    doctor, patient
):
    appointment = visit(doctor, patient)
    appointment.status = S.CANCELLED
    db.session.commit()
    conversation, created = conversations.open_conversation(
        actor_id=doctor.user.id, patient_id=patient.id, now=NOW
    )
    assert created
    messages.send_message(
        conversation_id=conversation.id, sender_id=doctor.user.id, body="Rebook?", now=NOW
    )
    # The patient has no visit left to talk about: they may read, not write.
    with pytest.raises(ChatClosed):
        messages.send_message(
            conversation_id=conversation.id, sender_id=patient.id, body="Yes", now=NOW
        )


def test_one_conversation_per_pair_the_second_opening_finds_it(doctor, patient):
    visit(doctor, patient)
    first, created = conversations.open_conversation(
        actor_id=patient.id, doctor_id=doctor.id, now=NOW
    )
    second, again = conversations.open_conversation(
        actor_id=doctor.user.id, patient_id=patient.id, now=NOW
    )
    assert (created, again) == (True, False)
    assert first.id == second.id


def test_the_patient_writes_until_the_clinics_days_after_the_last_visit(doctor, patient):
    past = visit(doctor, patient, days=-20, status=S.COMPLETED)
    conversation, _ = conversations.open_conversation(
        actor_id=patient.id, doctor_id=doctor.id, now=NOW
    )
    ended = past.ends_at

    def send(at):
        return messages.send_message(
            conversation_id=conversation.id, sender_id=patient.id, body="Hi", now=at
        )

    assert send(ended + timedelta(days=13, hours=23)).id
    with pytest.raises(ChatClosed):
        send(ended + timedelta(days=14, minutes=1))
    doctor.clinic.chat_days_after_visit = 30
    db.session.commit()
    assert send(ended + timedelta(days=29)).id
    # The doctor is held to no window.
    assert messages.send_message(
        conversation_id=conversation.id,
        sender_id=doctor.user.id,
        body="Ok",
        now=ended + timedelta(days=365),
    ).id


def test_the_patient_writes_while_a_visit_is_upcoming(doctor, patient):
    visit(doctor, patient, days=40)
    conversation, _ = conversations.open_conversation(
        actor_id=patient.id, doctor_id=doctor.id, now=NOW
    )
    assert (
        messages.send_message(
            conversation_id=conversation.id, sender_id=patient.id, body="Before we meet", now=NOW
        ).body
        == "Before we meet"
    )


@pytest.mark.parametrize("role", [Role.HELPER, Role.ADMIN])
def test_staff_cannot_open_a_conversation(doctor, patient, role):
    visit(doctor, patient)
    staff = make_user(role)
    with pytest.raises(Forbidden):
        conversations.open_conversation(actor_id=staff.id, doctor_id=doctor.id, now=NOW)
