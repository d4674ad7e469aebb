"""Changing the email address or phone number of an account.

Both need a recent check of the account holder (services/reauth.py) and a code sent to the
new address, so a typo never locks anyone out and nobody claims an address they do not hold.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CodeChannel, CodePurpose, User
from app.services import audit
from app.services.accounts import codes
from app.services.accounts.accounts import AccountExists, normalize_email, normalize_phone
from app.services.accounts.reauth import require_recent_auth
from app.services.errors import InvalidInput
from app.services.notifications import outbox
from app.services.transaction import transaction, use_case


def start_email_change(
    user_id: int,
    new_email: str,
    *,
    attempt_id: str,
    reauthenticated_at: datetime | None,
    now: datetime,
    ip: str | None = None,
) -> None:
    """Send a code to the new address, whether or not it already has an account: the answer
    must not tell who is registered (a clash is reported once the code comes back, to whoever
    holds that inbox). Raises ReauthenticationRequired, InvalidInput, codes.CodeNotSent."""
    require_recent_auth(reauthenticated_at, now)
    user = db.session.get(User, user_id)
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise InvalidInput(gettext("That is already your email address."), field="email")
    codes.issue(
        user,
        purpose=CodePurpose.CHANGE_EMAIL,
        channel=CodeChannel.EMAIL,
        destination=new_email,
        attempt_id=attempt_id,
        now=now,
        ip=ip,
    )


def confirm_email_change(
    user_id: int, *, attempt_id: str | None, code: str, now: datetime, ip: str | None = None
) -> User:
    """Switch to the new address the code went to; the old address is told (after the
    commit; a lost note does not undo the change).

    Raises codes.InvalidCode, AccountExists (the address has another account: told only now).
    """
    try:
        user, old_email = _switch_email(user_id, attempt_id=attempt_id, code=code, now=now, ip=ip)
    except IntegrityError as exc:  # the address was taken between the check and the write
        raise AccountExists() from exc
    with transaction():
        outbox.notify(
            user,
            "account.email_changed",
            key=f"account:{user.id}:email-changed:{now.isoformat()}",
            data={"new_email": user.email},
            email=old_email,
        )
    return user


@use_case(commit_on=(codes.InvalidCode, AccountExists))  # the code is used up either way
def _switch_email(
    user_id: int, *, attempt_id: str | None, code: str, now: datetime, ip: str | None
) -> tuple[User, str]:
    row = codes.consume(
        attempt_id=attempt_id,
        purpose=CodePurpose.CHANGE_EMAIL,
        code=code,
        now=now,
        user_id=user_id,
        ip=ip,
    )
    user = db.session.get(User, user_id)
    taken = select(User.id).where(User.email == row.destination, User.id != user_id)
    if db.session.scalar(taken) is not None:
        # Only the holder of that inbox gets this far: telling them is no leak.
        audit.record("account.email_change_clash", actor_id=user.id, target_type="user",
                     target_id=user.id, ip=ip)  # fmt: skip
        raise AccountExists(
            gettext(
                "That address already has a Carebook account: sign in to it instead, or choose "
                "another address."
            )
        )
    old_email = user.email
    user.email = row.destination
    user.email_verified_at = now
    user.updated_by_id = user.id
    audit.record(
        "account.email_changed",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        data={"from": old_email, "to": row.destination},
        ip=ip,
    )
    # A clash with an address taken meanwhile surfaces here, inside the use case, which then
    # rolls back (IntegrityError is no recorded refusal).
    db.session.flush()
    return user, old_email


def start_phone_change(
    user_id: int,
    new_phone: str | None,
    *,
    attempt_id: str,
    reauthenticated_at: datetime | None,
    now: datetime,
    ip: str | None = None,
) -> bool:
    """Send a code by SMS to the new number; an empty number removes the phone at once.

    Returns True when a code was sent. Raises ReauthenticationRequired, InvalidInput,
    codes.CodeNotSent.
    """
    require_recent_auth(reauthenticated_at, now)
    user = db.session.get(User, user_id)
    new_phone = normalize_phone(new_phone)
    if new_phone is None:
        with transaction():
            user.phone = None
            user.phone_verified_at = None
            audit.record("account.phone_removed", actor_id=user.id, target_id=user.id, ip=ip)
        return False
    if new_phone == user.phone and user.phone_verified_at is not None:
        raise InvalidInput(gettext("That is already your phone number."), field="phone")
    codes.issue(
        user,
        purpose=CodePurpose.CHANGE_PHONE,
        channel=CodeChannel.SMS,
        destination=new_phone,
        attempt_id=attempt_id,
        now=now,
        ip=ip,
    )
    return True


@use_case(commit_on=(codes.InvalidCode,))
def confirm_phone_change(
    user_id: int, *, attempt_id: str | None, code: str, now: datetime, ip: str | None = None
) -> User:
    """Switch to the verified new number the code went to. Raises codes.InvalidCode."""
    row = codes.consume(
        attempt_id=attempt_id,
        purpose=CodePurpose.CHANGE_PHONE,
        code=code,
        now=now,
        user_id=user_id,
        ip=ip,
    )
    user = db.session.get(User, user_id)
    user.phone = row.destination
    user.phone_verified_at = now
    user.updated_by_id = user.id
    audit.record(
        "account.phone_changed",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        ip=ip,
    )
    return user
