"""One budget of wrong passwords per email address, for the web and the API together.

The first FREE_FAILURES cost nothing; each one after makes the address wait twice as long as
the last before the next password is checked (2 s, 4 s, ... at most MAX_DELAY). It is a
delay, not a lock: a sign-in code, a reset link or Google still sign the owner in, and any
successful sign-in clears the count. Counted by address, known or not, so the answer does not
tell which addresses have accounts.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import SignInThrottle
from app.services.errors import DomainError

FREE_FAILURES = 5
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)  # a day without a wrong password starts afresh


class SignInThrottled(DomainError):
    status_code = 429
    code = "sign_in_throttled"

    def __init__(self, retry_after: int):
        super().__init__(
            f"Too many wrong passwords for this account. Try again in {retry_after} seconds, "
            "or sign in with an emailed code, or reset your password.",
            retry_after=retry_after,
        )


def _key(email: str) -> str:
    return (email or "").strip().lower()[:254]


def delay_after(failures: int) -> timedelta:
    """How long the address waits after its `failures`-th wrong password in a row."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_DELAY)


def check(email: str, now: datetime) -> None:
    """Raises SignInThrottled while the address waits out its delay."""
    blocked_until = db.session.scalar(
        select(SignInThrottle.blocked_until).where(SignInThrottle.email == _key(email))
    )
    if blocked_until is not None and blocked_until > now:
        raise SignInThrottled(max(1, math.ceil((blocked_until - now).total_seconds())))


def record_failure(email: str, now: datetime) -> None:
    """Count a wrong password (the caller commits). Locks the row: parallel guesses count."""
    key = _key(email)
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(SignInThrottle)
        .values(email=key, failures=0, last_failure_at=now)
        .on_conflict_do_nothing(index_elements=["email"])
    )
    row = db.session.scalar(
        select(SignInThrottle)
        .where(SignInThrottle.email == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if now - row.last_failure_at > FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    wait = delay_after(row.failures)
    row.blocked_until = now + wait if wait else None


def clear(email: str) -> None:
    """A successful sign-in (any way) ends the backoff (the caller commits)."""
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.email == _key(email)))
