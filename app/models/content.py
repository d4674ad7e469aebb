"""Staff-written pages (help and policies) and doctors' applications to join."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.clinics import Clinic, Doctor
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.users import User

MAX_PAGE_BODY = 100_000
MAX_APPLICATION_MESSAGE = 2000


class PageKind(enum.StrEnum):
    FAQ = "faq"  # one question and its answer on /help
    POLICY = "policy"  # a page of its own at /policies/<slug>


class ContentPage(db.Model):
    """A help entry or a policy page, written in Markdown by staff with content.manage and
    rendered sanitised (services/content.py). Unpublished pages are a 404 to the public."""

    __tablename__ = "content_pages"
    __table_args__ = (
        CheckConstraint(f"length(body) <= {MAX_PAGE_BODY}", name="body_length"),
        Index("ix_content_pages_kind_published", "kind", "published"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")  # Markdown
    kind: Mapped[PageKind] = mapped_column(enum_column(PageKind, "page_kind"), nullable=False)
    published: Mapped[bool] = mapped_column(nullable=False, default=False)
    # The order on /help and in the footer (lower first, then the title).
    position: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship()


class ApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"  # the doctor account exists; the applicant got a set-password link
    DECLINED = "declined"


class DoctorApplication(db.Model):
    """A doctor's request to join, from the public page; an admin verifies or declines it."""

    __tablename__ = "doctor_applications"
    __table_args__ = (
        # One open application per address (a second is refused; a race too).
        Index(
            "uq_doctor_applications_pending_email",
            "email",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_doctor_applications_status_created", "status", "created_at"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(
            "(status = 'declined') = (decline_reason IS NOT NULL)", name="declined_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    licence_number: Mapped[str] = mapped_column(String(64), nullable=False)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id", ondelete="SET NULL"))
    # The specialties asked for (ids of the directory at the time of applying).
    specialty_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column(ApplicationStatus, "application_status"),
        nullable=False,
        default=ApplicationStatus.PENDING,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    # The language the application was written in (app/i18n.py): the answer is in it.
    locale: Mapped[str | None] = mapped_column(String(8))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id", ondelete="SET NULL"))

    clinic: Mapped[Clinic | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    doctor: Mapped[Doctor | None] = relationship()
