"""One conversation as its page shows it: a page of messages (oldest first on screen), the
cursor to older ones, whether the viewer may write; reading it marks it read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.models import Conversation, Message
from app.services.chat.messages import history, mark_read
from app.services.chat.rules import Side, conversation_for, patient_may_write
from app.services.transaction import transaction

PAGE = 30


@dataclass(frozen=True)
class Thread:
    conversation: Conversation
    side: Side
    messages: list[Message]  # oldest first
    older_before_id: int | None  # where "older messages" continues (None: no more)
    can_write: bool

    @property
    def other_name(self) -> str:
        if self.side is Side.PATIENT:
            return self.conversation.doctor.name
        return self.conversation.patient.name


def open_thread(
    *, conversation_id: int, viewer_id: int, before_id: int | None = None, now: datetime
) -> Thread:
    """The page of the conversation; a participant's newest page is marked read. Raises
    ConversationNotFound, InvalidInput (and audits an auditor's reading, as history does)."""
    with transaction():
        page = history(
            conversation_id=conversation_id,
            viewer_id=viewer_id,
            before_id=before_id,
            limit=PAGE + 1,
        )
        conversation, side, _ = conversation_for(conversation_id, viewer_id, audit=True)
        shown = page[:PAGE]
        if side is not Side.AUDITOR and before_id is None and shown:
            mark_read(
                conversation_id=conversation.id, reader_id=viewer_id, up_to_id=shown[0].id, now=now
            )
        can_write = side is Side.DOCTOR or (
            side is Side.PATIENT and patient_may_write(conversation, now)
        )
        return Thread(
            conversation=conversation,
            side=side,
            messages=list(reversed(shown)),
            older_before_id=shown[-1].id if len(page) > PAGE else None,
            can_write=can_write,
        )
