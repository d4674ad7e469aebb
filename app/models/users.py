"""Users, roles, helper permissions and patient profiles."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import AuditColumns
from app.models.types import UTCDateTime, enum_column, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    DOCTOR = "doctor"
    PATIENT = "patient"
    HELPER = "helper"


class User(AuditColumns, UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are unique case-insensitively: the database keeps them lower-cased.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        # Search by a doctor's name, "contains" (lower(name) LIKE '%...%'), through trigrams
        # (pg_trgm, PostgreSQL only: migration 0023). SQLite reads the table.
        Index(
            "ix_users_doctor_name_trgm",
            text("lower(name) gin_trgm_ops"),
            postgresql_using="gin",
            postgresql_where=text("role = 'doctor'"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    google_sub: Mapped[str | None] = mapped_column(String(255), unique=True)
    totp_secret: Mapped[str | None] = mapped_column(String(255))  # sealed: services/sealing.py
    must_change_password: Mapped[bool] = mapped_column(default=False, nullable=False)
    is_active: Mapped[bool] = mapped_column(default=True, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Accounts made by an admin, the CLI or the demo seed count as verified (the default);
    # self-registration stores None until the emailed code comes back.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time-step accepted: a code is never accepted twice.
    totp_last_counter: Mapped[int | None] = mapped_column()
    # Every API token carries the version it was issued under; bumping it (sign-out
    # everywhere, password or 2FA change, role change, (de)activation) ends them all.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    # The language pages, mail and texts are in (app/i18n.py): the account's setting ('en',
    # 'es'; None: follow the browser), and what the browser asked for at the last sign-in
    # (mail and texts leave outside any request of the person's).
    locale: Mapped[str | None] = mapped_column(String(8))
    browser_locale: Mapped[str | None] = mapped_column(String(8))

    permissions: Mapped[list[UserPermission]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="UserPermission.user_id"
    )
    patient_profile: Mapped[PatientProfile | None] = relationship(
        back_populates="user", uselist=False, foreign_keys="PatientProfile.user_id"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret is not None

    @property
    def permission_names(self) -> set[str]:
        return {p.permission for p in self.permissions}


class UserPermission(db.Model):
    """A permission an admin granted to a helper (e.g. bookings.view)."""

    __tablename__ = "user_permissions"
    __table_args__ = (UniqueConstraint("user_id", "permission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    permission: Mapped[str] = mapped_column(String(64), nullable=False)

    user: Mapped[User] = relationship(back_populates="permissions", foreign_keys=[user_id])


class PatientProfile(AuditColumns, db.Model):
    __tablename__ = "patient_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    # Optional: the patient's health insurer and their member number there.
    insurer: Mapped[str | None] = mapped_column(String(120))
    insurance_member_number: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="patient_profile", foreign_keys=[user_id])
