"""Authenticator-app two-factor authentication (TOTP) and its recovery codes.

A TOTP code is accepted one time-step either side of now, and never for a time-step at or
before the last one accepted (users.totp_last_counter), so a seen code cannot be replayed.
Recovery codes are random, stored as HMACs and used once.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from flask_babel import gettext, lazy_gettext
from sqlalchemy import delete, select

from app.extensions import db
from app.models import RecoveryCode, Role, User
from app.services import audit, sealing
from app.services.accounts import sessions
from app.services.accounts.codes import digest
from app.services.accounts.reauth import require_recent_auth
from app.services.errors import Conflict, DomainError, Forbidden
from app.services.transaction import use_case

ISSUER = "Carebook"
RECOVERY_CODE_COUNT = 10


class InvalidSecondFactor(DomainError):
    status_code = 401
    code = "invalid_second_factor"
    default_message = lazy_gettext("That code is not valid. Enter the current code from your app.")


class SecondFactorAlreadyUsed(InvalidSecondFactor):
    """A code that was right once and has been used (a TOTP code, or an earlier one of its
    window, already signed in; a recovery code spent): told apart, so the person waits."""

    code = "second_factor_already_used"
    default_message = lazy_gettext(
        "That code was already used. Wait for the next code from your app."
    )


class TwoFactorRequired(Forbidden):
    """The rule of needs_two_factor(): this account may not work without an authenticator
    app (here: it may not turn it off)."""

    code = "two_factor_required"
    default_message = lazy_gettext(
        "Administrators and helpers with permissions must keep two-factor authentication on."
    )


class TwoFactorEnrolmentRequired(TwoFactorRequired):
    """The same rule met by an account that has not set the app up yet (the API refuses it a
    token; the web pages send it to the enrolment page instead)."""

    code = "two_factor_enrolment_required"
    default_message = lazy_gettext(
        "Administrators and helpers with permissions must set up two-step verification "
        "(on the website) first."
    )


class TwoFactorCodeNeeded(DomainError):
    """Not the rule but a missing credential: the password was right, and the account's
    second factor must come with it (the API's token request without `otp`). Its wire code
    is the API's documented `two_factor_required`."""

    status_code = 401
    code = "two_factor_required"
    default_message = lazy_gettext(
        "This account uses two-step verification: send `otp` with the current code from the "
        "authenticator app (or a recovery code)."
    )


class TwoFactorAlreadyOn(Conflict):
    code = "two_factor_on"
    default_message = lazy_gettext("Two-factor authentication is already on.")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as an inline SVG element (no scripts, no external image)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff")


def _matching_counter(secret: str, code: str, now: datetime) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for counter in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(RecoveryCode(user_id=user.id, code_hash=digest(code), created_at=now))
    return codes


@use_case
def enable(
    user_id: int,
    *,
    secret: str,
    code: str,
    reauthenticated_at: datetime | None,
    now: datetime,
    ip: str | None = None,
) -> list[str]:
    """Turn 2FA on with the secret the user scanned, proven by a current code.

    Returns the recovery codes (shown once). Raises ReauthenticationRequired,
    TwoFactorAlreadyOn, InvalidSecondFactor.
    """
    require_recent_auth(reauthenticated_at, now)
    user = db.session.get(User, user_id)
    if user.totp_secret:
        raise TwoFactorAlreadyOn()
    counter = _matching_counter(secret, code, now)
    if counter is None:
        raise InvalidSecondFactor()
    user.totp_secret = sealing.seal(secret)
    user.totp_last_counter = counter
    codes = _new_recovery_codes(user, now)
    sessions.revoke_api_tokens(user.id, now=now)
    audit.record("auth.2fa_enabled", actor_id=user.id, target_type="user", target_id=user.id, ip=ip)
    return codes


@use_case
def disable(
    user_id: int, *, reauthenticated_at: datetime | None, now: datetime, ip: str | None = None
) -> None:
    """Turn 2FA off. Raises ReauthenticationRequired, TwoFactorRequired (administrators and
    helpers holding a permission)."""
    require_recent_auth(reauthenticated_at, now)
    user = db.session.get(User, user_id)
    if needs_two_factor(user):
        raise TwoFactorRequired()
    user.totp_secret = None
    user.totp_last_counter = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    sessions.revoke_api_tokens(user.id, now=now)
    audit.record(
        "auth.2fa_disabled", actor_id=user.id, target_type="user", target_id=user.id, ip=ip
    )


@use_case
def regenerate_recovery_codes(
    user_id: int, *, reauthenticated_at: datetime | None, now: datetime, ip: str | None = None
) -> list[str]:
    """Replace the recovery codes. Raises ReauthenticationRequired, Conflict (2FA is off)."""
    require_recent_auth(reauthenticated_at, now)
    user = db.session.get(User, user_id)
    if not user.totp_secret:
        raise Conflict(gettext("Two-factor authentication is off."))
    codes = _new_recovery_codes(user, now)
    audit.record("auth.2fa_recovery_codes_regenerated", actor_id=user.id, ip=ip)
    return codes


@use_case(commit_on=(InvalidSecondFactor,))
def verify(user_id: int, code: str, *, now: datetime, ip: str | None = None) -> User:
    """The second step of signing in: a current TOTP code or an unused recovery code.

    Raises InvalidSecondFactor, or its SecondFactorAlreadyUsed for a replayed code (a failure
    is audited and committed).
    """
    user = db.session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None or not user.is_active or not user.totp_secret:
        raise InvalidSecondFactor()
    counter = _matching_counter(sealing.unseal(user.totp_secret), code, now)
    if counter is not None and counter > (user.totp_last_counter or -1):
        user.totp_last_counter = counter
        audit.record("auth.2fa_passed", actor_id=user.id, data={"method": "totp"}, ip=ip)
        return user
    recovery = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == digest((code or "").strip().lower()),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is not None:
        recovery.used_at = now
        audit.record("auth.2fa_passed", actor_id=user.id, data={"method": "recovery_code"}, ip=ip)
        return user
    spent = db.session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == digest((code or "").strip().lower()),
            RecoveryCode.used_at.is_not(None),
        )
    )
    replayed = counter is not None or spent is not None
    audit.record("auth.2fa_failed", actor_id=user.id, data={"replayed": replayed}, ip=ip)
    if spent is not None:
        raise SecondFactorAlreadyUsed(gettext("That recovery code was already used."))
    if counter is not None:
        raise SecondFactorAlreadyUsed()
    raise InvalidSecondFactor()


def remaining_recovery_codes(user_id: int) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def needs_two_factor(user: User) -> bool:
    """Administrators, and helpers holding any permission (they see patients' bookings,
    payments or accounts), may not work without an authenticator app."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.HELPER and bool(user.permission_names)


def must_enrol(user: User, *, required: bool = True) -> bool:
    """The account must set up 2FA before anything else (`required`: ADMIN_2FA_REQUIRED)."""
    return required and not user.totp_secret and needs_two_factor(user)
