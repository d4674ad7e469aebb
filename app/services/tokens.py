"""Bearer tokens for the JSON API: signed, expiring, bound to an active account."""

from __future__ import annotations

from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer

from app.models import User
from app.services.accounts import get_active_user
from app.services.errors import DomainError

_SALT = "carebook.api-token.v1"


class InvalidToken(DomainError):
    status_code = 401
    code = "invalid_token"
    default_message = "The access token is missing, invalid or expired."


def issue_token(user: User, *, secret_key: str, ttl_seconds: int, now: datetime) -> str:
    payload = {"uid": user.id, "exp": int(now.timestamp()) + ttl_seconds}
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
    if user is None:
        raise InvalidToken()
    return user
