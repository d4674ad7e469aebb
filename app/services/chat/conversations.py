"""Conversations: opening one (once per patient and doctor), a user's list with the last
message and unread counts, and the unread total of the navigation badge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Conversation, Doctor, Message, Role, User
from app.services.access import doctor_of, load_actor
from app.services.chat.errors import NoSharedAppointment
from app.services.chat.rules import shares_appointment
from app.services.errors import DoctorNotFound, Forbidden, InvalidInput, UserNotFound
from app.services.transaction import use_case


@dataclass(frozen=True)
class ConversationSummary:
    conversation: Conversation
    last_message: Message | None
    unread: int

    @property
    def id(self) -> int:
        return self.conversation.id


@use_case
def open_conversation(
    *, actor_id: int, doctor_id: int | None = None, patient_id: int | None = None, now: datetime
) -> tuple[Conversation, bool]:
    """The conversation of the actor with a doctor (a patient gives `doctor_id`) or with a
    patient (a doctor gives `patient_id`), made on first use; True when it is new. Raises
    InvalidInput, Forbidden (neither patient nor doctor), DoctorNotFound, UserNotFound,
    NoSharedAppointment."""
    actor = load_actor(actor_id)
    if actor.role is Role.PATIENT:
        if doctor_id is None or patient_id is not None:
            raise InvalidInput(
                gettext("Name the doctor to write to (doctor_id)."), field="doctor_id"
            )
        doctor = db.session.get(Doctor, doctor_id)
        if doctor is None:
            raise DoctorNotFound()
        patient = actor
    elif actor.role is Role.DOCTOR and (doctor := doctor_of(actor)) is not None:
        if patient_id is None or doctor_id is not None:
            raise InvalidInput(
                gettext("Name the patient to write to (patient_id)."), field="patient_id"
            )
        patient = db.session.get(User, patient_id)
        if patient is None or patient.role is not Role.PATIENT:
            raise UserNotFound()
    else:
        raise Forbidden(gettext("Only a patient and their doctor can open a conversation."))
    if not shares_appointment(patient.id, doctor.id):
        raise NoSharedAppointment()
    return _get_or_create(patient.id, doctor.id, now)


def _get_or_create(patient_id: int, doctor_id: int, now: datetime) -> tuple[Conversation, bool]:
    """Race-safe: the unique pair decides; a concurrent opener gets the same row."""
    maker = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = Conversation.__table__
    created = db.session.scalar(
        maker(table)
        .values(patient_id=patient_id, doctor_id=doctor_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["patient_id", "doctor_id"])
        .returning(table.c.id)
    )
    conversation = db.session.scalar(
        select(Conversation).where(
            Conversation.patient_id == patient_id, Conversation.doctor_id == doctor_id
        )
    )
    return conversation, created is not None


def conversation_id_between(patient_id: int, doctor_id: int) -> int | None:
    """The pair's conversation, if they have one (a dispute's page links it for staff
    holding conversations.audit; opening it is audited there)."""
    return db.session.scalar(
        select(Conversation.id).where(
            Conversation.patient_id == patient_id, Conversation.doctor_id == doctor_id
        )
    )


def _mine(user_id: int):
    return or_(
        Conversation.patient_id == user_id,
        Conversation.doctor_id.in_(select(Doctor.id).where(Doctor.user_id == user_id)),
    )


def list_conversations(user_id: int) -> list[ConversationSummary]:
    """The user's conversations, most recent message first, each with its last message and
    how many of its messages the user has not read (three queries, whatever the count)."""
    conversations = db.session.scalars(
        select(Conversation)
        .where(_mine(user_id))
        .options(
            joinedload(Conversation.patient),
            joinedload(Conversation.doctor).joinedload(Doctor.user),
        )
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
    ).all()
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    newest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
    )
    last = {
        m.conversation_id: m
        for m in db.session.scalars(select(Message).where(Message.id.in_(newest)))
    }
    unread = dict(
        db.session.execute(
            select(Message.conversation_id, func.count())
            .where(Message.recipient_id == user_id, Message.read_at.is_(None))
            .group_by(Message.conversation_id)
        ).all()
    )
    return [ConversationSummary(c, last.get(c.id), unread.get(c.id, 0)) for c in conversations]


def unread_total(user_id: int) -> int:
    """Messages to the user not read yet, in all conversations (the badge: one COUNT on the
    partial index of unread messages)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.recipient_id == user_id, Message.read_at.is_(None))
    )
