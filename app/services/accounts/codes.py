"""One-time codes sent by email or SMS: issued for one purpose and one attempt, checked once.

A code is 6 digits, lives at most CODE_TTL, survives MAX_WRONG_TRIES wrong guesses and is
stored only as an HMAC keyed with the app's secret. Issuing a code for an attempt retires the
codes issued before it for the same user and purpose, so guesses never add up across codes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.models import CodeChannel, CodePurpose, OneTimeCode, User
from app.services import audit, messaging
from app.services.errors import DomainError
from app.services.transaction import transaction

CODE_TTL = timedelta(minutes=10)
MAX_WRONG_TRIES = 5

_SUBJECTS = {
    CodePurpose.SIGN_IN: _l("Your Carebook sign-in code"),
    CodePurpose.VERIFY_EMAIL: _l("Confirm your email for Carebook"),
    CodePurpose.VERIFY_PHONE: _l("Confirm your phone for Carebook"),
    CodePurpose.REAUTH: _l("Your Carebook confirmation code"),
    CodePurpose.CHANGE_EMAIL: _l("Confirm your new email for Carebook"),
    CodePurpose.CHANGE_PHONE: _l("Confirm your new phone for Carebook"),
}


class InvalidCode(DomainError):
    """Wrong, expired, used, worn out or never sent: one answer for all of them."""

    status_code = 401
    code = "invalid_code"
    default_message = lazy_gettext(
        "That code is not valid. Check it, or ask for a new one (codes last 10 minutes)."
    )


class CodeNotSent(DomainError):
    status_code = 503
    code = "code_not_sent"
    default_message = lazy_gettext(
        "We could not send the code just now. Please try again in a minute."
    )


def new_attempt_id() -> str:
    """A random id for one sign-in or verification attempt (kept in the browser session)."""
    return secrets.token_urlsafe(24)


def digest(secret: str) -> str:
    """The stored form of a code or token: HMAC-SHA256 keyed with the app secret."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def issue(
    user: User,
    *,
    purpose: CodePurpose,
    channel: CodeChannel,
    destination: str,
    attempt_id: str,
    now: datetime,
    ip: str | None = None,
) -> None:
    """Create a code for `user`, commit it, then send it to `destination`; the outcome is
    recorded in a second transaction. Call it outside a use case: the message goes out only
    after the code is committed, so a code that arrives always works.

    When delivery fails the code is retired, the failure audited and CodeNotSent raised.
    """
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction():
        db.session.execute(
            update(OneTimeCode)
            .where(
                OneTimeCode.user_id == user.id,
                OneTimeCode.purpose == purpose,
                OneTimeCode.used_at.is_(None),
            )
            .values(used_at=now)
        )
        row = OneTimeCode(
            user_id=user.id,
            purpose=purpose,
            channel=channel,
            destination=destination,
            attempt_id=attempt_id,
            code_hash=digest(f"{attempt_id}:{code}"),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        db.session.add(row)
    try:
        _deliver(channel, destination, purpose, code)
    except messaging.DeliveryFailed as exc:
        with transaction(commit_on=(CodeNotSent,)):
            row.used_at = now
            audit.record(
                "auth.code_failed",
                actor_id=user.id,
                data={"purpose": purpose.value, "channel": channel.value, "error": str(exc)},
                ip=ip,
            )
            raise CodeNotSent() from exc
    with transaction():
        audit.record(
            "auth.code_sent",
            actor_id=user.id,
            data={"purpose": purpose.value, "channel": channel.value},
            ip=ip,
        )


def _deliver(channel: CodeChannel, destination: str, purpose: CodePurpose, code: str) -> None:
    # In the language of the page that asked for it (the person is at that browser).
    text = "\n\n".join(
        (
            _("Your Carebook code is %(code)s.", code=code),
            _(
                "It works once, for the next 10 minutes. If you did not ask for it, ignore "
                "this message: nobody can use it without also having your browser."
            ),
        )
    )
    if channel is CodeChannel.SMS:
        messaging.send_sms(
            to=destination, body=_("Carebook code: %(code)s (valid 10 minutes)", code=code)
        )
    else:
        messaging.send_email(to=destination, subject=str(_SUBJECTS[purpose]), body=text)


def consume(
    *,
    attempt_id: str | None,
    purpose: CodePurpose,
    code: str,
    now: datetime,
    user_id: int | None = None,
    ip: str | None = None,
) -> OneTimeCode:
    """Check `code` against the live code of this attempt and use it up.

    A helper of the caller's use case (it never commits): a wrong guess is counted, the
    MAX_WRONG_TRIES-th retires the code, and InvalidCode is raised; the caller's use case
    commits on InvalidCode (`commit_on`) so that the count stays. Raises InvalidCode.
    """
    code = (code or "").strip().replace(" ", "")
    if not attempt_id:
        raise InvalidCode()
    query = select(OneTimeCode).where(
        OneTimeCode.attempt_id == attempt_id,
        OneTimeCode.purpose == purpose,
        OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > now,
    )
    if user_id is not None:
        query = query.where(OneTimeCode.user_id == user_id)
    row = db.session.scalar(query.order_by(OneTimeCode.id.desc()).limit(1).with_for_update())
    if row is None:
        raise InvalidCode()
    if not hmac.compare_digest(row.code_hash, digest(f"{attempt_id}:{code}")):
        row.failed_attempts += 1
        if row.failed_attempts >= MAX_WRONG_TRIES:
            row.used_at = now
        audit.record(
            "auth.code_rejected",
            actor_id=row.user_id,
            data={"purpose": purpose.value, "failed_attempts": row.failed_attempts},
            ip=ip,
        )
        raise InvalidCode()
    row.used_at = now
    return row
