"""The outbox: the one way a service tells a user something.

`notify()` writes one Notification row per channel in the caller's transaction (a unique
dedupe key per row, so a repeated or concurrent call adds nothing). Nothing leaves before the
commit. After it, each new email or SMS row is handed on: with REDIS_URL to RQ's
`notifications` queue (the worker delivers it), without (the embedded default) it is
delivered in this process right after the use case that wrote it (`flush_ready`; for steps
that commit by themselves, when they return and at the end of the request). If either
step is lost (Redis down, a crash between commit and enqueue) the row stays pending and the
periodic `requeue_stale` sweep hands it on again: nothing is lost. In-app rows need no
transport: they are delivered by being stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import (
    Notification,
    NotificationChannel,
    NotificationPreference,
    NotificationStatus,
    User,
)
from app.models.types import utcnow
from app.services import outbox_rows
from app.services.notifications import delivery, inbox
from app.services.notifications.kinds import KINDS, Kind
from app.services.transaction import after_each_use_case, run_after_commit_hooks

log = logging.getLogger(__name__)
C = NotificationChannel
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Notice:
    """One thing to tell one user (see `notify`)."""

    user: User
    kind: str
    key: str
    data: dict | None = None
    channels: tuple[NotificationChannel, ...] | None = None
    email: str | None = None
    available_at: datetime | None = None


def notify(
    user: User,
    kind: str,
    *,
    key: str,
    data: dict | None = None,
    channels: Iterable[NotificationChannel] | None = None,
    email: str | None = None,
    available_at: datetime | None = None,
) -> list[int]:
    """Tell `user` about `kind` on each channel the kind uses, the user can receive and has
    not turned off. `key` names the event once (f"appointment:{id}:confirmed"); a second
    call with the same key adds nothing. `email` sends to another address than the
    account's (the old address after a change). `available_at` holds an email or text back
    until then (delivery and the sweep leave it alone; its kind's still_relevant decides
    then). Does not commit; returns the new row ids."""
    wanted = tuple(channels) if channels is not None else None
    return notify_all([Notice(user, kind, key, data, wanted, email, available_at)])


def notify_address(email: str, kind: str, *, key: str, data: dict | None = None) -> list[int]:
    """Email someone who has no account (a doctor whose application was declined): one
    email row without a user, for an essential kind only (nobody to hold preferences). Does
    not commit; returns the new row id (none when `key` was used before)."""
    spec = KINDS[kind]
    if not spec.essential or C.EMAIL not in spec.channels:
        raise ValueError(f"{kind}: only essential email kinds go to an address")
    now = utcnow()
    return _insert(
        [
            {
                "user_id": None,
                "channel": C.EMAIL,
                "kind": kind,
                "dedupe_key": f"{key}:{C.EMAIL.value}",
                "data": data or {},
                "destination": email,
                "status": NotificationStatus.PENDING,
                "sent_at": None,
                "created_at": now,
                "available_at": now,
                "attempts": 0,
            }
        ]
    )


def notify_all(notices: list[Notice]) -> list[int]:
    """`notify` for many at once (a reminder sweep's page): one query for the users'
    preferences, one insert. Does not commit; returns the new row ids."""
    off = _turned_off({n.user.id for n in notices if not KINDS[n.kind].essential})
    now = utcnow()
    rows = []
    for notice in notices:
        spec = KINDS[notice.kind]
        for channel in _allowed_channels(notice.user, spec, notice.channels or spec.channels):
            if not spec.essential and (notice.user.id, spec.category, channel) in off:
                continue
            destination = None
            if channel is C.EMAIL:
                destination = notice.email or notice.user.email
            elif channel is C.SMS:
                destination = notice.user.phone
            in_app = channel is C.IN_APP
            rows.append(
                {
                    "user_id": notice.user.id,
                    "channel": channel,
                    "kind": notice.kind,
                    "dedupe_key": f"{notice.key}:{channel.value}",
                    "data": notice.data or {},
                    "destination": destination,
                    # In-app rows are delivered by being stored.
                    "status": NotificationStatus.SENT if in_app else NotificationStatus.PENDING,
                    "sent_at": now if in_app else None,
                    "created_at": now,
                    "available_at": notice.available_at or now,
                    "attempts": 0,
                }
            )
    return _insert(rows)


def _insert(rows: list[dict]) -> list[int]:
    """Insert notification rows, skipping those whose dedupe key exists (race-safe on
    PostgreSQL and SQLite: the unique key decides). Returns the ids written."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    table = Notification.__table__
    stmt = (
        maker(table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id, table.c.channel, table.c.user_id, table.c.available_at)
    )
    # Core, not the ORM's bulk path: an executemany with RETURNING that SQLAlchemy sends as a
    # few multi-row INSERTs ("insertmanyvalues") instead of one statement a row.
    written = db.session.connection().execute(stmt, rows).all()
    # Handed on after the commit: what may go now. A row held back (`available_at` later: a
    # chat email) is left to the sweep, which hands it on once due; delivering it now would
    # only find it not ready.
    now = utcnow()
    outgoing = [
        row_id
        for row_id, channel, _, available_at in written
        if channel is not C.IN_APP and available_at <= now
    ]
    delivery.ROWS.add_new(outgoing)
    # The bell of each user with a new in-app row shows the new count (after the commit).
    inbox.publish_unread({user_id for _, channel, user_id, _ in written if channel is C.IN_APP})
    return [row_id for row_id, _, _, _ in written]


def _turned_off(user_ids: set[int]) -> set[tuple[int, str, NotificationChannel]]:
    if not user_ids:
        return set()
    rows = db.session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.category,
            NotificationPreference.channel,
        ).where(
            NotificationPreference.user_id.in_(user_ids),
            NotificationPreference.enabled.is_(False),
        )
    )
    return {tuple(row) for row in rows}


def _allowed_channels(
    user: User, spec: Kind, wanted: tuple[NotificationChannel, ...]
) -> list[NotificationChannel]:
    """The wanted channels that reach this user (an active account; SMS to a verified
    phone)."""
    if not user.is_active and not spec.essential:
        return []
    return [
        c
        for c in wanted
        if c is C.IN_APP
        or (c is C.EMAIL and (user.email))
        or (c is C.SMS and user.phone and user.phone_verified_at is not None)
    ]


# --- after the commit: the shared hand-on (app/services/outbox_rows.py) ------------------

enqueue = delivery.ROWS.enqueue  # (ids, *, round_="new") -> bool: False when Redis is down
requeue_stale = delivery.ROWS.requeue_stale  # (*, now) -> int: the sweep, how many went on
stale_after = outbox_rows.stale_after


@after_each_use_case
def flush_ready() -> int:
    """Deliver, in this process, what committed without a queue (the embedded default): run
    after each use case, at the end of each request and by commands. Never raises: what it
    cannot deliver stays pending for the sweep."""
    return delivery.ROWS.flush_ready()


def hands_on(function: Callable[P, R]) -> Callable[P, R]:
    """For a service step that commits by itself (the payment steps commit between Stripe
    calls, outside a use case): what it wrote is handed on when it returns, as a use case's
    is after its commit (every after-commit hook runs: its webhook deliveries go too)."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        finally:
            run_after_commit_hooks()  # flush_ready, and the webhooks' hand-on

    return run
