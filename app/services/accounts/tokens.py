"""Bearer tokens for the JSON API: signed, expiring, bound to an active account; and the
refresh tokens that renew them (services/accounts/refresh_tokens.py keeps those).

An access token is stateless (itsdangerous) and says: user, expiry, the user's token_version,
and the refresh token family it was issued with. It stops working when it expires, when
token_version moves on (sign-out everywhere, password, 2FA, role, deactivation: every token of
the user) or when its family is revoked (that family only: reuse detected, /auth/revoke, the
account page), which costs one indexed lookup per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext
from itsdangerous import BadSignature, URLSafeSerializer

from app.models import User
from app.services import audit
from app.services.accounts import accounts, refresh_tokens, two_factor
from app.services.accounts.accounts import get_active_user
from app.services.accounts.refresh_tokens import InvalidRefreshToken, RefreshTokenReused
from app.services.accounts.two_factor import (
    InvalidSecondFactor,
    TwoFactorCodeNeeded,
    TwoFactorEnrolmentRequired,
)
from app.services.errors import DomainError
from app.services.transaction import use_case

_SALT = "carebook.api-token.v1"


class InvalidToken(DomainError):
    status_code = 401
    code = "invalid_token"
    default_message = lazy_gettext("The access token is missing, invalid or expired.")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


@use_case(
    commit_on=(
        *accounts.SIGN_IN_REFUSALS,
        TwoFactorCodeNeeded,
        TwoFactorEnrolmentRequired,
        InvalidSecondFactor,
    )
)
def token_for_credentials(
    *,
    email: str,
    password: str,
    otp: str | None,
    secret_key: str,
    ttl_seconds: int,
    now: datetime,
    refresh_ttl: timedelta,
    client: str | None = None,
    ip: str | None = None,
    admins_need_2fa: bool = True,
) -> TokenPair:
    """A bearer token and a refresh token (a new family, named after `client`) for an email and
    password, plus the second factor when the account has one: the API is no way around
    two-step verification.

    One use case: the attempt is recorded (and committed) whether the token is given or
    refused. Raises InvalidCredentials, AccountInactive, EmailNotConfirmed, SignInThrottled,
    TwoFactorCodeNeeded (no `otp`), InvalidSecondFactor, TwoFactorEnrolmentRequired.
    """
    user = accounts.authenticate(email, password, now=now, ip=ip)
    if two_factor.must_enrol(user, required=admins_need_2fa):
        raise TwoFactorEnrolmentRequired()
    if user.totp_secret:
        if not otp:
            raise TwoFactorCodeNeeded()
        user = two_factor.verify(user.id, otp, now=now, ip=ip)
    family_id, refresh_token = refresh_tokens.start_family(
        user.id, client=client, now=now, ttl=refresh_ttl
    )
    access_token = issue_token(
        user, secret_key=secret_key, ttl_seconds=ttl_seconds, now=now, family_id=family_id
    )
    return TokenPair(access_token, refresh_token, ttl_seconds)


@use_case(commit_on=(RefreshTokenReused,))
def refresh(
    token: str,
    *,
    secret_key: str,
    ttl_seconds: int,
    refresh_ttl: timedelta,
    now: datetime,
    ip: str | None = None,
    admins_need_2fa: bool = True,
) -> TokenPair:
    """A new access token and a new refresh token for a refresh token, which is retired.
    Raises InvalidRefreshToken (unknown, expired, revoked, or the account is inactive or owes
    2FA enrolment), RefreshTokenReused (a retired token: its family is revoked, committed)."""
    rotation = refresh_tokens.rotate(token, now=now, ttl=refresh_ttl, ip=ip)
    user = get_active_user(rotation.user_id)
    if user is None or two_factor.must_enrol(user, required=admins_need_2fa):
        raise InvalidRefreshToken()
    access_token = issue_token(
        user,
        secret_key=secret_key,
        ttl_seconds=ttl_seconds,
        now=now,
        family_id=rotation.family_id,
    )
    return TokenPair(access_token, rotation.token, ttl_seconds)


@use_case
def revoke(token: str, *, now: datetime) -> None:
    """RFC 7009: the refresh token's family is revoked; an unknown token is not an error."""
    refresh_tokens.revoke_by_token(token, now=now)


@use_case
def revoke_api_session(
    user_id: int, family_id: str, *, now: datetime, ip: str | None = None
) -> bool:
    """The account page's "Revoke" on one of the user's own API sessions (a refresh token
    family). False when there was no such live session (someone else's, or already gone)."""
    revoked = refresh_tokens.revoke_user_family(user_id, family_id, now=now)
    if revoked:
        audit.record(
            "api.session_revoked",
            actor_id=user_id,
            target_type="user",
            target_id=user_id,
            data={"family": family_id},
            ip=ip,
        )
    return revoked


def issue_token(
    user: User,
    *,
    secret_key: str,
    ttl_seconds: int,
    now: datetime,
    family_id: str | None = None,
) -> str:
    """A signed access token; with `family_id`, it dies with that refresh token family."""
    payload = {"uid": user.id, "exp": int(now.timestamp()) + ttl_seconds, "v": user.token_version}
    if family_id is not None:
        payload["f"] = family_id
    return URLSafeSerializer(secret_key, salt=_SALT).dumps(payload)


def user_for_token(token: str, *, secret_key: str, now: datetime) -> User:
    """The active user a token was issued to. Raises InvalidToken."""
    try:
        payload = URLSafeSerializer(secret_key, salt=_SALT).loads(token)
    except BadSignature as exc:
        raise InvalidToken() from exc
    if not isinstance(payload, dict) or payload.get("exp", 0) <= now.timestamp():
        raise InvalidToken()
    user = get_active_user(payload.get("uid"))
    # A token from before the account's last sign-out everywhere, password, 2FA or role change.
    if user is None or payload.get("v") != user.token_version:
        raise InvalidToken()
    family_id = payload.get("f")
    if family_id is not None and refresh_tokens.family_revoked(str(family_id)):
        raise InvalidToken()
    return user
