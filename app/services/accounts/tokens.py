"""Bearer tokens for the JSON API: signed, expiring, bound to an active account."""

from __future__ import annotations

from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer

from app.models import User
from app.services.accounts import accounts, two_factor
from app.services.accounts.accounts import get_active_user
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
    default_message = "The access token is missing, invalid or expired."


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
    ip: str | None = None,
    admins_need_2fa: bool = True,
) -> str:
    """A bearer token for an email and password, plus the second factor when the account has
    one: the API is no way around two-step verification.

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
    return issue_token(user, secret_key=secret_key, ttl_seconds=ttl_seconds, now=now)


def issue_token(user: User, *, secret_key: str, ttl_seconds: int, now: datetime) -> str:
    payload = {"uid": user.id, "exp": int(now.timestamp()) + ttl_seconds, "v": user.token_version}
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
    return user
