"""Handing on outbox rows: the plumbing the notification outbox and the webhook deliveries share.

A service writes rows to deliver (notifications, webhook deliveries) in its own transaction
and names their ids with `add_new`. After the commit they are handed on: with REDIS_URL to an
RQ queue, BATCH ids a job (`enqueue`); without, they wait in the session to be delivered in
this process (`flush_ready`). A rollback drops them. A worker claims a row with one statement
before it sends anything (`claim`: attempts + 1, claimed_at = now), so two workers given the
same ids send it once; the periodic sweep (`requeue_stale`) hands on again a row whose
hand-on was lost or whose worker's claim lapsed.

Each table describes itself once with an `OutboxRows` (notifications/delivery.py,
webhooks/delivery.py); constructing one registers its session hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.types import utcnow
from app.services import queues


def claim_lease() -> timedelta:
    """How long a worker's claim on a row lasts; a row claimed longer ago (the worker died)
    is delivered again."""
    return timedelta(seconds=current_app.config.get("NOTIFICATION_CLAIM_LEASE_SECONDS", 300))


def stale_after() -> timedelta:
    """A pending row not handed on within this long is handed on again by the sweep."""
    return timedelta(seconds=current_app.config.get("NOTIFICATION_STALE_SECONDS", 60))


@dataclass(frozen=True, eq=False)  # compared by identity: one per table
class OutboxRows:
    """One table of rows handed on after the commit."""

    model: Any  # the mapped class: it has id, status, attempts, available_at, claimed_at
    pending: Any  # its status value for a row still to deliver
    deliverable: tuple  # further conditions a row to hand on meets (() for none)
    queue: str  # the RQ queue, also the start of its job ids
    job: str  # the job that delivers a list of ids
    batch: int  # ids a job
    retry_job: str  # the start of a delayed retry's job id
    new_key: str  # session.info: ids written in the open transaction
    ready_key: str  # session.info: committed ids waiting to be delivered inline
    noun: str  # in the log: "could not enqueue 3 {noun}(s)"
    row_noun: str  # in the log: "retry of {row_noun} 7 left to the sweep"
    deliver: Callable[[list[int], datetime], int]  # delivers ids (commits); how many went
    log: logging.Logger

    def __post_init__(self) -> None:
        event.listen(Session, "after_commit", self._after_commit)
        event.listen(Session, "after_rollback", self._after_rollback)

    def add_new(self, ids: list[int]) -> None:
        """Hand `ids` on once the open transaction commits (forgotten if it rolls back)."""
        db.session.info.setdefault(self.new_key, []).extend(ids)

    def _after_commit(self, session: Session) -> None:
        ids = session.info.pop(self.new_key, None)
        if not ids or not has_app_context():
            return
        if current_app.config.get("REDIS_URL"):
            self.enqueue(ids)
        else:
            session.info.setdefault(self.ready_key, []).extend(ids)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(self.new_key, None)

    def enqueue(self, ids: list[int], *, round_: str = "new") -> bool:
        """Put deliveries on the queue, `batch` ids a job; False (the rows stay pending for the
        sweep) when Redis cannot be reached. `round_` tells the job ids of one hand-on from
        those of a later one (a job id RQ has seen is not enqueued again)."""
        try:
            for start in range(0, len(ids), self.batch):
                chunk = ids[start : start + self.batch]
                queues.enqueue(
                    self.job,
                    chunk,
                    queue=self.queue,
                    job_id=f"{self.queue}-{round_}-{chunk[0]}-{chunk[-1]}-{len(chunk)}",
                    retry=False,  # delivery retries itself, row by row
                )
        except RedisError as exc:
            self.log.warning(
                "could not enqueue %d %s(s), the sweep will: %s", len(ids), self.noun, exc
            )
            return False
        return True

    def flush_ready(self) -> int:
        """Deliver, in this process, what committed without a queue. Never raises: what it
        cannot deliver stays pending for the sweep."""
        ids = db.session.info.pop(self.ready_key, None)
        if not ids:
            return 0
        try:
            return self.deliver(ids, utcnow())
        except Exception:
            db.session.rollback()
            self.log.exception(
                "inline delivery of %d %s(s) failed; the sweep retries", len(ids), self.noun
            )
            return 0

    def claim(self, ids: list[int], now: datetime) -> list[int]:
        """Claim the due pending rows among `ids` that nobody holds (or whose claim lapsed);
        commits, returns the ids claimed."""
        m = self.model
        claimed = db.session.scalars(
            update(m)
            .where(
                m.id.in_(ids),
                m.status == self.pending,
                *self.deliverable,
                m.available_at <= now,
                or_(m.claimed_at.is_(None), m.claimed_at < now - claim_lease()),
            )
            .values(claimed_at=now, attempts=m.attempts + 1)
            .returning(m.id)
            .execution_options(synchronize_session=False)
        ).all()
        db.session.commit()
        return list(claimed)

    def schedule_retries(self, backoff: dict[int, timedelta]) -> None:
        """With a queue, each retry is a delayed job; without, the periodic sweep finds it."""
        if not backoff or not current_app.config.get("REDIS_URL"):
            return
        for row_id, delay in backoff.items():
            try:
                queues.enqueue(
                    self.job,
                    [row_id],
                    queue=self.queue,
                    in_=delay,
                    retry=False,
                    job_id=f"{self.retry_job}-{row_id}-{int(delay.total_seconds())}",
                )
            except RedisError as exc:
                self.log.warning("retry of %s %s left to the sweep: %s", self.row_noun, row_id, exc)

    def requeue_stale(self, *, now: datetime) -> int:
        """Hand on again every pending row that was not handed on within `stale_after()` (a
        lost enqueue, a retry whose delayed job is gone, no queue at all) or whose worker's
        claim lapsed (the worker died mid-job); returns how many."""
        m = self.model
        ids = list(
            db.session.scalars(
                select(m.id)
                .where(
                    m.status == self.pending,
                    *self.deliverable,
                    or_(
                        and_(m.claimed_at.is_(None), m.available_at <= now - stale_after()),
                        m.claimed_at < now - claim_lease(),
                    ),
                )
                .order_by(m.id)
                .limit(10 * self.batch)
            )
        )
        db.session.rollback()
        if not ids:
            return 0
        if current_app.config.get("REDIS_URL"):
            return len(ids) if self.enqueue(ids, round_=f"sweep{int(now.timestamp()) // 30}") else 0
        return self.deliver(ids, now)
