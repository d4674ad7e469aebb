"""Reviews: a patient's rating of one completed visit, the doctor's reply, moderation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.appointments import Appointment
from app.models.clinics import Doctor
from app.models.types import UTCDateTime, utcnow
from app.models.users import User

MAX_COMMENT = 2000
MAX_REASON = 500


class Review(db.Model):
    """One per appointment (the unique key decides a race). The comment is stored as written
    and only ever rendered as text. A hidden review (hidden_at set) is out of the listings
    and out of the doctor's rating_count / rating_sum."""

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),
        CheckConstraint(f"comment IS NULL OR length(comment) <= {MAX_COMMENT}", name="comment"),
        CheckConstraint(f"reply IS NULL OR length(reply) <= {MAX_COMMENT}", name="reply"),
        CheckConstraint("(hidden_at IS NULL) = (hidden_reason IS NULL)", name="hidden_has_reason"),
        # A doctor's visible reviews, newest first (the public listing pages through it).
        Index(
            "ix_reviews_doctor_visible_created",
            "doctor_id",
            "created_at",
            "id",
            postgresql_where=text("hidden_at IS NULL"),
            sqlite_where=text("hidden_at IS NULL"),
        ),
        Index("ix_reviews_doctor_created", "doctor_id", "created_at"),
        # Ratings over time across doctors (the reports).
        Index(
            "ix_reviews_visible_created",
            "created_at",
            postgresql_include=["doctor_id", "rating"],
            postgresql_where=text("hidden_at IS NULL"),
            sqlite_where=text("hidden_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    # Copied from the appointment: the listings and the rating read them directly.
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), nullable=False
    )
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(String(MAX_REASON))
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    appointment: Mapped[Appointment] = relationship()
    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    doctor: Mapped[Doctor] = relationship()
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])

    @property
    def is_visible(self) -> bool:
        return self.hidden_at is None

    def __repr__(self) -> str:
        return f"<Review {self.id} appointment={self.appointment_id} {self.rating}>"
