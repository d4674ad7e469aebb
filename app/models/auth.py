"""Sign-in machinery: one-time codes, 2FA recovery codes and server-side sessions.

Only hashes of codes and session tokens are stored: a copy of the database signs no one in.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class CodePurpose(enum.StrEnum):
    SIGN_IN = "sign_in"
    VERIFY_EMAIL = "verify_email"
    VERIFY_PHONE = "verify_phone"
    REAUTH = "reauth"
    CHANGE_EMAIL = "change_email"
    CHANGE_PHONE = "change_phone"


class CodeChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class OneTimeCode(db.Model):
    """A 6-digit code sent for one purpose to one address, for one attempt (browser session)."""

    __tablename__ = "one_time_codes"
    __table_args__ = (CheckConstraint("failed_attempts >= 0", name="failed_attempts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    purpose: Mapped[CodePurpose] = mapped_column(
        enum_column(CodePurpose, "code_purpose"), nullable=False
    )
    channel: Mapped[CodeChannel] = mapped_column(
        enum_column(CodeChannel, "code_channel"), nullable=False
    )
    destination: Mapped[str] = mapped_column(String(254), nullable=False)
    attempt_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(default=0, nullable=False)


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(db.Model):
    """A signed-in browser; the cookie holds the token, the table its hash and its fate."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class RefreshToken(db.Model):
    """One API refresh token (its hash). Each refresh retires the token and issues its child in
    the same family; a retired token seen again revokes the whole family (reuse detection)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Shared by every token rotated from one sign-in; access tokens carry it too.
    family_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("refresh_tokens.id", ondelete="SET NULL")
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    client: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Rotated into a child: presenting it again is reuse.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInThrottle(db.Model):
    """Wrong passwords for one email address, counted for the web and the API together.

    Keyed by the address typed, whether or not it has an account, so that the answer is the
    same for both. See services/accounts/throttle.py for the backoff it drives.
    """

    __tablename__ = "sign_in_throttles"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures"),)

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(nullable=False, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
