"""Video visits: who joined and left an appointment's room, and when (no media is kept)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.appointments import Appointment
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.users import User


class VisitEventKind(enum.StrEnum):
    JOINED = "joined"
    LEFT = "left"


class VisitEvent(db.Model):
    """One participant entering or leaving the video room of an appointment. The socket's id
    ties a "left" to its "joined": a second window replacing the first does not end the
    visit when the first one closes."""

    __tablename__ = "visit_events"
    __table_args__ = (Index("ix_visit_events_appointment_at", "appointment_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[VisitEventKind] = mapped_column(
        enum_column(VisitEventKind, "visit_event_kind"), nullable=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    socket_id: Mapped[str | None] = mapped_column(String(64))

    appointment: Mapped[Appointment] = relationship()
    user: Mapped[User] = relationship()
