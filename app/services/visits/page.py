"""The visit room's page: the visit, the chat of its patient and doctor beside the video
(when they have a conversation), and the outcomes the doctor may record from the room."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Conversation
from app.services import access
from app.services.chat.threads import Thread, open_thread
from app.services.scheduling import booking
from app.services.transaction import transaction
from app.services.visits.rooms import Phase, Visit, visit_for

OUTCOMES = ("complete", "no_show")


@dataclass(frozen=True)
class VisitPage:
    visit: Visit
    thread: Thread | None  # the patient and doctor's chat, None before their first message
    outcomes: tuple[str, ...]  # what the doctor may record now: "complete", "no_show"

    @property
    def phase(self) -> Phase:
        return self.visit.phase


def visit_page(*, appointment_id: int, user_id: int, now: datetime) -> VisitPage:
    """Raises VisitNotFound (not a participant, not a video visit, not confirmed), Forbidden.
    Opening the page reads the chat's newest messages (as /messages does)."""
    with transaction():
        visit = visit_for(appointment_id=appointment_id, user_id=user_id, now=now)
        appointment = visit.appointment
        thread = None
        if visit.phase is Phase.OPEN:
            conversation_id = db.session.scalar(
                select(Conversation.id).where(
                    Conversation.patient_id == appointment.patient_id,
                    Conversation.doctor_id == appointment.doctor_id,
                )
            )
            if conversation_id is not None:
                thread = open_thread(conversation_id=conversation_id, viewer_id=user_id, now=now)
        outcomes: tuple[str, ...] = ()
        if visit.is_doctor:
            allowed = booking.allowed_actions(appointment, access.load_actor(user_id), now)
            outcomes = tuple(x for x in OUTCOMES if x in allowed)
        return VisitPage(visit=visit, thread=thread, outcomes=outcomes)
