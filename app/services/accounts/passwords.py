"""Passwords: emailed reset and set-password links, changing and choosing a password.

A link carries an itsdangerous token, signed with the app secret, timed, and bound to a
fingerprint of the password hash at the time it was issued: once the password changes (which
is what using the link does), every earlier link stops working.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from flask import current_app
from flask_babel import gettext, lazy_gettext
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services import audit, sealing
from app.services.accounts import accounts, sessions, throttle
from app.services.accounts.accounts import (
    check_password_rules,
    hash_password,
    normalize_email,
    verify_password,
)
from app.services.accounts.reauth import require_recent_auth
from app.services.errors import DomainError, InvalidInput, UserNotFound
from app.services.links import public_url
from app.services.notifications import outbox
from app.services.transaction import transaction, use_case

log = logging.getLogger(__name__)

_RESET_SALT = "carebook.password-reset.v1"
_SET_SALT = "carebook.set-password.v1"


class InvalidPasswordLink(DomainError):
    status_code = 400
    code = "invalid_password_link"
    default_message = lazy_gettext(
        "This link is not valid any more: it has expired or was already used. Ask for a new one."
    )


class PasswordNotRequired(DomainError):
    status_code = 409
    code = "password_not_required"
    default_message = lazy_gettext("Your password does not need changing.")


def _serializer(
    salt: str, signer: type[TimestampSigner] = TimestampSigner
) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=signer)


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "no-password").encode()).hexdigest()[:20]


def _make_token(user: User, salt: str, now: datetime) -> str:
    """A link token signed at `now`: its age is judged against the same clock
    (user_for_link), not the wall clock."""
    stamp = int(now.timestamp())

    class SignedAtNow(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return _serializer(salt, SignedAtNow).dumps({"uid": user.id, "fp": _fingerprint(user)})


def _ttl_seconds(salt: str) -> int:
    if salt == _RESET_SALT:
        return current_app.config["PASSWORD_RESET_TTL_MINUTES"] * 60
    return current_app.config["SET_PASSWORD_TTL_HOURS"] * 3600


def user_for_link(token: str | None, *, purpose: str, now: datetime) -> User:
    """The active user a reset ("reset") or set-password ("set") link is for.

    Raises InvalidPasswordLink (bad signature, expired, already used, deactivated account).
    """
    salt = _RESET_SALT if purpose == "reset" else _SET_SALT
    try:
        payload, signed_at = _serializer(salt).loads(token or "", return_timestamp=True)
    except BadSignature as exc:
        raise InvalidPasswordLink() from exc
    # Expiry is judged against `now` (not the wall clock) so that it can be tested.
    age = (now - signed_at).total_seconds()
    if not -60 <= age <= _ttl_seconds(salt):
        raise InvalidPasswordLink()
    user = db.session.get(User, payload.get("uid")) if isinstance(payload, dict) else None
    if user is None or not user.is_active or payload.get("fp") != _fingerprint(user):
        raise InvalidPasswordLink()
    return user


def request_password_reset(email: str, *, now: datetime, ip: str | None = None) -> None:
    """Email a reset link to the account with that address, if there is one.

    Answers the same either way. The email is written to the outbox with the request and
    leaves after the commit (retried if the mail server is down). Raises InvalidInput
    (malformed address).
    """
    email = normalize_email(email)
    with transaction():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None or not user.is_active:
            audit.record("auth.password_reset_unknown", actor_id=None, data={"email": email}, ip=ip)
            return
        audit.record("auth.password_reset_requested", actor_id=user.id, ip=ip)
        link = public_url("auth.reset_password", token=_make_token(user, _RESET_SALT, now))
        outbox.notify(
            user,
            "account.password_reset",
            key=f"account:{user.id}:password-reset:{now.isoformat()}",
            data={
                "link_sealed": sealing.seal(link),
                "minutes": current_app.config["PASSWORD_RESET_TTL_MINUTES"],
            },
        )


def send_set_password_link(
    user_id: int,
    *,
    now: datetime,
    actor_id: int | None = None,
    ip: str | None = None,
    kind: str = "account.staff_created",
) -> None:
    """Email an account (typically one an admin just created) a link to choose its password.

    The link (on PUBLIC_BASE_URL) expires SET_PASSWORD_TTL_HOURS after `now` and works once.
    It goes through the outbox with the audit record, as a notification of `kind` (one whose
    renderer reads `link_sealed` and `hours`: a verified doctor's application says so).
    Raises UserNotFound.
    """
    with transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise UserNotFound()
        audit.record(
            "auth.set_password_link_sent",
            actor_id=actor_id,
            target_type="user",
            target_id=user.id,
            ip=ip,
        )
        link = public_url("auth.set_password", token=_make_token(user, _SET_SALT, now))
        outbox.notify(
            user,
            kind,
            key=f"account:{user.id}:set-password:{now.isoformat()}",
            data={
                "link_sealed": sealing.seal(link),
                "hours": current_app.config["SET_PASSWORD_TTL_HOURS"],
            },
        )


def _set_password(user: User, password: str, *, now: datetime, keep_token: str | None) -> None:
    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.updated_by_id = user.id
    sessions.revoke_user_sessions(user.id, now=now, keep_token=keep_token)


def _notify_changed(user: User, now: datetime) -> None:
    """The security note after a password change, in its own use case after the change
    committed (the change stands whatever happens to the note)."""
    with transaction():
        outbox.notify(
            user,
            "account.password_changed",
            key=f"account:{user.id}:password-changed:{now.isoformat()}",
        )


def reset_password(
    token: str | None,
    new_password: str,
    *,
    purpose: str,
    now: datetime,
    ip: str | None = None,
) -> User:
    """Use a reset or set-password link: set the password, sign out every session; after a
    reset the account is told by email (a lost note does not undo the change).

    The link proves the email address, so the email also counts as verified. Raises
    InvalidPasswordLink, InvalidInput.
    """
    with transaction():
        user = user_for_link(token, purpose=purpose, now=now)
        check_password_rules(new_password)
        _set_password(user, new_password, now=now, keep_token=None)
        accounts.claim_email(user, user.email, keep_password=True, now=now, ip=ip)
        throttle.clear(user.email)  # the inbox holder: the new password works at once
        audit.record(
            "auth.password_reset" if purpose == "reset" else "auth.password_set",
            actor_id=user.id,
            target_type="user",
            target_id=user.id,
            ip=ip,
        )
    if purpose == "reset":
        _notify_changed(user, now)
    return user


def change_password(
    user_id: int,
    new_password: str,
    *,
    reauthenticated_at: datetime | None,
    session_token: str | None,
    now: datetime,
    ip: str | None = None,
) -> None:
    """Change the password after a recent check; other sessions are signed out, and the
    account is told by email after the commit (a lost note does not undo the change).

    Raises ReauthenticationRequired, InvalidInput.
    """
    with transaction():
        require_recent_auth(reauthenticated_at, now)
        check_password_rules(new_password)
        user = db.session.get(User, user_id)
        _set_password(user, new_password, now=now, keep_token=session_token)
        audit.record(
            "auth.password_changed", actor_id=user.id, target_type="user", target_id=user.id, ip=ip
        )
    _notify_changed(user, now)


@use_case
def choose_first_password(
    user_id: int,
    new_password: str,
    *,
    session_token: str | None,
    now: datetime,
    ip: str | None = None,
) -> None:
    """At the first sign-in of an account marked must_change_password, replace the temporary
    password. Raises PasswordNotRequired, InvalidInput."""
    user = db.session.get(User, user_id)
    if not user.must_change_password:
        raise PasswordNotRequired()
    check_password_rules(new_password)
    if verify_password(user.password_hash, new_password):
        raise InvalidInput(
            gettext("Choose a password different from the temporary one."), field="password"
        )
    _set_password(user, new_password, now=now, keep_token=session_token)
    audit.record(
        "auth.password_changed",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        data={"first": True},
        ip=ip,
    )
