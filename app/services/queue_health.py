"""Queue health for staff: what RQ holds per queue, who works on it, and the failed jobs.

Everything is read from RQ's own registries in Redis (nothing of ours is stored). Without
REDIS_URL there are no queues: jobs run inline in the web process, and `read` says so. A
Redis that cannot be reached is reported, not raised. Retrying or deleting a failed job is
audited; the audit entry commits only once Redis has done it.
"""

from __future__ import annotations

import contextlib
import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.cron import CronScheduler
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job

from app.services import audit
from app.services.errors import DomainError, NotFound
from app.services.queues import QUEUES, redis_connection
from app.services.transaction import transaction

FAILED_SHOWN = 50  # newest failed jobs listed per queue


class QueuesUnavailable(DomainError):
    status_code = 503
    code = "queues_unavailable"
    default_message = lazy_gettext(
        "Redis cannot be reached: the queues cannot be read or changed now."
    )


class QueuesNotConfigured(DomainError):
    status_code = 409
    code = "queues_not_configured"
    default_message = lazy_gettext(
        "No REDIS_URL is set: jobs run inline in the web process, none can fail."
    )


class FailedJobNotFound(NotFound):
    code = "failed_job_not_found"
    default_message = lazy_gettext(
        "There is no such failed job (it may have been retried or deleted)."
    )


class Mode(enum.StrEnum):
    INLINE = "inline"  # no REDIS_URL: jobs run in the web process after the commit
    DOWN = "down"  # REDIS_URL set, Redis unreachable
    UP = "up"


@dataclass(frozen=True)
class QueueCounts:
    name: str
    queued: int
    started: int
    failed: int
    scheduled: int
    deferred: int


@dataclass(frozen=True)
class WorkerState:
    name: str
    state: str  # idle, busy, suspended ...
    queues: list[str]
    current_job: str | None
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class CronState:
    name: str
    jobs: list[str]  # the periodic functions it enqueues
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    function: str
    enqueued_at: datetime | None
    ended_at: datetime | None
    error: str  # the last line of the traceback ("RuntimeError: boom")


@dataclass
class Health:
    mode: Mode
    problem: str | None = None  # why Redis could not be read
    queues: list[QueueCounts] = field(default_factory=list)
    workers: list[WorkerState] = field(default_factory=list)
    cron: list[CronState] = field(default_factory=list)
    failed: list[FailedJob] = field(default_factory=list)


def read() -> Health:
    """The state of every queue now; never raises for an absent or unreachable Redis."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return Health(mode=Mode.INLINE)
    connection = redis_connection(url)
    try:
        connection.ping()
        queues = [Queue(name, connection=connection) for name in QUEUES]
        return Health(
            mode=Mode.UP,
            queues=[_counts(q) for q in queues],
            workers=_workers(connection),
            cron=_cron(connection),
            failed=[job for q in queues for job in _failed(q)],
        )
    except RedisError as exc:
        return Health(mode=Mode.DOWN, problem=f"{exc.__class__.__name__}: {exc}")


def depths() -> tuple[Mode, list[QueueCounts]]:
    """Only the job counts per queue (for /metrics: no worker or failed-job listing); never
    raises for an absent or unreachable Redis."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return Mode.INLINE, []
    connection = redis_connection(url)
    try:
        return Mode.UP, [_counts(Queue(name, connection=connection)) for name in QUEUES]
    except RedisError:
        return Mode.DOWN, []


def _counts(queue: Queue) -> QueueCounts:
    return QueueCounts(
        name=queue.name,
        queued=queue.count,
        started=queue.started_job_registry.count,
        failed=queue.failed_job_registry.count,
        scheduled=queue.scheduled_job_registry.count,
        deferred=queue.deferred_job_registry.count,
    )


def _workers(connection: Redis) -> list[WorkerState]:
    workers = [w for w in Worker.all(connection=connection) if w is not None]
    return [
        WorkerState(
            name=w.name,
            state=_text(w.get_state()),
            queues=w.queue_names(),
            current_job=w.get_current_job_id(),
            last_heartbeat=_aware(w.last_heartbeat),
        )
        for w in sorted(workers, key=lambda w: w.name)
    ]


def _cron(connection: Redis) -> list[CronState]:
    return [
        CronState(
            name=scheduler.name,
            jobs=sorted(job.func_name for job in scheduler.get_jobs()),
            last_heartbeat=scheduler.last_heartbeat,
        )
        for scheduler in CronScheduler.all(connection)
    ]


def _failed(queue: Queue) -> list[FailedJob]:
    ids = queue.failed_job_registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
    jobs = Job.fetch_many(ids, connection=queue.connection)
    return [_failed_job(queue.name, job) for job in jobs if job is not None]


def _failed_job(queue: str, job: Job) -> FailedJob:
    try:
        function = job.func_name
    except Exception:  # a job whose payload no longer unpickles still gets listed
        function = "?"
    result = job.latest_result()
    trace = (result.exc_string if result is not None else None) or ""
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    return FailedJob(
        id=job.id,
        queue=queue,
        function=function,
        enqueued_at=_aware(job.enqueued_at),
        ended_at=_aware(job.ended_at),
        error=lines[-1].strip() if lines else "",
    )


def _text(state) -> str:
    return str(getattr(state, "value", state) or "unknown")  # RQ gives a str or a StrEnum


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)  # RQ keeps UTC without a zone


def _failed_registry(queue: str):
    if queue not in QUEUES:
        raise FailedJobNotFound()
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise QueuesNotConfigured()
    return Queue(queue, connection=redis_connection(url)).failed_job_registry


def retry_failed_job(queue: str, job_id: str, *, actor_id: int) -> None:
    """Put a failed job back on its queue. Raises FailedJobNotFound, QueuesNotConfigured,
    QueuesUnavailable."""
    _on_failed_job("queue.job_retried", queue, job_id, actor_id, lambda r: r.requeue(job_id))


def delete_failed_job(queue: str, job_id: str, *, actor_id: int) -> None:
    """Drop a failed job for good. Raises FailedJobNotFound, QueuesNotConfigured,
    QueuesUnavailable."""

    def delete(registry) -> None:
        # A job whose data had already expired: removing its entry was all there was.
        with contextlib.suppress(NoSuchJobError):
            registry.remove(job_id, delete_job=True)

    _on_failed_job("queue.job_deleted", queue, job_id, actor_id, delete)


def _on_failed_job(action: str, queue: str, job_id: str, actor_id: int, act) -> None:
    """Audit `action` and apply `act` to the failed registry holding `job_id`, in one
    transaction (a refusal leaves no audit row)."""
    with transaction():
        audit.record(
            action,
            actor_id=actor_id,
            target_type="rq_job",
            target_id=job_id[:64],
            data={"queue": queue},
        )
        registry = _failed_registry(queue)
        try:
            if job_id not in registry:
                raise FailedJobNotFound()
            act(registry)
        except (NoSuchJobError, InvalidJobOperation) as exc:
            raise FailedJobNotFound() from exc
        except RedisError as exc:
            raise QueuesUnavailable() from exc
