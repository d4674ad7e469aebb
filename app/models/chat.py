"""Chat: one conversation per patient and doctor, its messages and their read state.

Read state lives on each message (`read_at`, set when its recipient reads it): a read receipt
per message is the column itself, and a message's `recipient_id` (the other participant,
fixed with the pair) makes every unread count a scan of one small partial index.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.clinics import Doctor
from app.models.types import UTCDateTime, utcnow
from app.models.users import User

MAX_BODY = 4000


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("patient_id", "doctor_id"),
        Index("ix_conversations_doctor_id", "doctor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # The newest message's time: the lists sort by it (None: nothing written yet).
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patient: Mapped[User] = relationship()
    doctor: Mapped[Doctor] = relationship()

    def __repr__(self) -> str:
        return f"<Conversation {self.id} patient={self.patient_id} doctor={self.doctor_id}>"


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(f"length(body) <= {MAX_BODY}", name="body_length"),
        CheckConstraint("body <> '' OR attachment_key IS NOT NULL", name="not_empty"),
        CheckConstraint(
            "(attachment_key IS NULL) = (attachment_name IS NULL)"
            " AND (attachment_key IS NULL) = (attachment_type IS NULL)"
            " AND (attachment_key IS NULL) = (attachment_size IS NULL)",
            name="attachment_whole",
        ),
        # History, newest first, paged by id.
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # The rate limit: a sender's messages of the last seconds.
        Index("ix_messages_sender_created", "sender_id", "created_at"),
        # Unread counts, in total and per conversation, from this index alone.
        Index(
            "ix_messages_unread",
            "recipient_id",
            "conversation_id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    sender_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")  # as written
    # One optional attachment: stored under `attachment_key` (services/storage.py).
    attachment_key: Mapped[str | None] = mapped_column(String(255))
    attachment_name: Mapped[str | None] = mapped_column(String(255))  # the original filename
    attachment_type: Mapped[str | None] = mapped_column(String(64))  # detected from the bytes
    attachment_size: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by its recipient

    conversation: Mapped[Conversation] = relationship()
    sender: Mapped[User] = relationship(foreign_keys=[sender_id])

    def __repr__(self) -> str:
        return f"<Message {self.id} conversation={self.conversation_id}>"
