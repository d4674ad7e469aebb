"""Notifications: what we mean to tell a user, once (the dedupe key), on a channel.

A row is the outbox entry of one message: it is written in the transaction of the change it
tells about and delivered after the commit (services/notifications/).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.users import User


class NotificationChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    IN_APP = "in_app"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for (another) delivery attempt
    SENT = "sent"  # handed to the transport (in-app: stored, which is delivery)
    FAILED = "failed"  # every attempt failed; last_error says why
    SKIPPED = "skipped"  # no longer worth sending (the visit was cancelled, say)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_status_available", "status", "available_at"),
        # The bell's count on every page: a user's unread in-app rows, from the index alone.
        Index(
            "ix_notifications_unread_in_app",
            "user_id",
            postgresql_where=text("channel = 'in_app' AND read_at IS NULL"),
            sqlite_where=text("channel = 'in_app' AND read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for an email to someone without an account (outbox.notify_address): the row's
    # destination is then the only address it has.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[NotificationChannel] = mapped_column(
        enum_column(NotificationChannel, "notification_channel"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # The address or number it goes to, fixed when it was written (None for in-app).
    destination: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus, "notification_status"),
        nullable=False,
        default=NotificationStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    # Not to be tried before this moment (backoff after a failure).
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Set while a worker delivers it; a claim older than the lease is taken over.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()


class NotificationPreference(db.Model):
    """A user's choice for one category of optional messages on one channel (no row: on)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[NotificationChannel] = mapped_column(
        enum_column(NotificationChannel, "notification_preference_channel"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(nullable=False, default=True)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
