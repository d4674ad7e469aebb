"""Who may talk to whom, and when.

- A conversation between a patient and a doctor exists once they share an appointment that
  reached confirmation: its `confirmed_at` is set (confirmed, then completed, missed, or even
  cancelled later). A hold never paid, a request still awaiting approval or rejected, and a
  booking cancelled or expired before confirmation open nothing.
- The patient may write while such an appointment is upcoming and until the clinic's
  `chat_days_after_visit` (14 by default) after the end of the last one that was not
  cancelled (confirmed, completed or missed).
- The doctor may always write in their own conversations.
- Nobody else reads them, except staff holding `conversations.audit`, read-only and audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Appointment, Conversation, Doctor, User
from app.models.appointments import CONFIRMED_STATUSES
from app.services.access import has_permission, is_the_doctor, load_actor
from app.services.chat.errors import ConversationNotFound

AUDIT_PERMISSION = "conversations.audit"
DEFAULT_DAYS_AFTER_VISIT = 14


class Side(StrEnum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    AUDITOR = "auditor"  # staff reading under conversations.audit


def shares_appointment(patient_id: int, doctor_id: int) -> bool:
    """The two share an appointment that reached confirmation."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Appointment.patient_id == patient_id,
                    Appointment.doctor_id == doctor_id,
                    Appointment.confirmed_at.is_not(None),
                )
            )
        )
    )


def days_after_visit(doctor: Doctor) -> int:
    clinic = doctor.clinic
    return clinic.chat_days_after_visit if clinic is not None else DEFAULT_DAYS_AFTER_VISIT


def patient_may_write(conversation: Conversation, now: datetime) -> bool:
    """An appointment of the pair that is not cancelled ends in the future or ended within
    the clinic's days after a visit."""
    since = now - timedelta(days=days_after_visit(conversation.doctor))
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Appointment.patient_id == conversation.patient_id,
                    Appointment.doctor_id == conversation.doctor_id,
                    Appointment.status.in_(CONFIRMED_STATUSES),
                    Appointment.ends_at >= since,
                )
            )
        )
    )


def side_of(user: User, conversation: Conversation) -> Side | None:
    """Which participant `user` is (None: neither)."""
    if user.id == conversation.patient_id:
        return Side.PATIENT
    if is_the_doctor(user, conversation.doctor):
        return Side.DOCTOR
    return None


def other_participant_id(conversation: Conversation, side: Side) -> int:
    return conversation.doctor.user_id if side is Side.PATIENT else conversation.patient_id


def conversation_for(
    conversation_id: int, user_id: int, *, audit: bool = False
) -> tuple[Conversation, Side, User]:
    """The conversation as `user_id` sees it: a participant, or (with `audit`) staff holding
    conversations.audit. Raises ConversationNotFound for anyone else (missing and not
    yours look the same), Forbidden for an unknown or deactivated user."""
    actor = load_actor(user_id)
    # With its doctor and clinic in the same statement: every caller asks who the doctor is
    # (side_of) and most the clinic's chat window (a message is sent in one query less each).
    conversation = db.session.get(
        Conversation,
        conversation_id,
        options=[joinedload(Conversation.doctor).joinedload(Doctor.clinic)],
    )
    if conversation is None:
        raise ConversationNotFound()
    side = side_of(actor, conversation)
    if side is None and audit and has_permission(actor, AUDIT_PERMISSION):
        side = Side.AUDITOR
    if side is None:
        raise ConversationNotFound()
    return conversation, side, actor
