"""Putting work on an RQ queue, or running it inline when no Redis is configured.

Callers enqueue after their transaction has committed. With REDIS_URL set, the job goes to an
RQ queue and a worker (`python -m workers`) runs it; without it (the embedded default of
`make run`) the job runs at once in this process. A job is named by its function or by its
dotted path ("workers.jobs.deliver_notifications"), so services need not import workers/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from redis import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.utils import import_attribute

QUEUES = ("notifications", "webhooks", "default")
# After Redis fails, enqueues fail at once for this long instead of each waiting for the
# connect timeout: the outbox keeps the work and its dispatcher hands it on later.
BACKOFF_SECONDS = 10.0

_CONNECTIONS: dict[str, Redis] = {}
_DOWN_UNTIL: dict[str, float] = {}


class QueueUnavailable(RedisError):
    """Redis failed a moment ago: not tried again yet."""


REDIS_MAX_CONNECTIONS = 50  # per process and URL
REDIS_POOL_WAIT_SECONDS = 5


def redis_connection(url: str) -> Redis:
    """One connection pool per URL for the process (RQ's worker makes its own). A blocking
    pool: under gevent hundreds of greenlets may ask at once (a thousand sockets closing when
    a server stops), and past REDIS_MAX_CONNECTIONS they wait for a connection to come back
    instead of failing with "Too many connections"."""
    connection = _CONNECTIONS.get(url)
    if connection is None:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=REDIS_MAX_CONNECTIONS,
            timeout=REDIS_POOL_WAIT_SECONDS,
            socket_connect_timeout=2,
            socket_timeout=5,
        )
        connection = Redis(connection_pool=pool)
        _CONNECTIONS[url] = connection
    return connection


def close_connections() -> None:
    """Drop every pooled Redis connection and what is known of outages (tests that start and
    stop Redis servers)."""
    _DOWN_UNTIL.clear()
    while _CONNECTIONS:
        _, connection = _CONNECTIONS.popitem()
        connection.connection_pool.disconnect()


def get_queue(name: str) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_connection(current_app.config["REDIS_URL"]))


def enqueue(
    func: Callable | str,
    *args,
    queue: str = "default",
    job_id: str | None = None,
    retry: bool = True,
    in_: timedelta | None = None,
    **kwargs,
) -> str | None:
    """Run `func(*args, **kwargs)` in the background; returns the RQ job id (None inline).

    A `job_id` makes the enqueue idempotent: RQ keeps one job per id. `in_` delays it (RQ's
    scheduler, run by the worker, moves it to the queue when due). `retry=False` leaves
    retrying to the job itself. Raises redis.exceptions.RedisError when Redis is down (at
    once, without trying, for BACKOFF_SECONDS after a failure).
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if not current_app.config.get("REDIS_URL"):
        (import_attribute(func) if isinstance(func, str) else func)(*args, **kwargs)
        return None
    url = current_app.config["REDIS_URL"]
    if time.monotonic() < _DOWN_UNTIL.get(url, 0.0):
        raise QueueUnavailable(f"Redis failed less than {BACKOFF_SECONDS:g} s ago")
    options = {"job_id": job_id, "retry": Retry(max=3, interval=[10, 60, 300]) if retry else None}
    target = get_queue(queue)
    try:
        if in_ is not None:
            job = target.enqueue_in(in_, func, *args, **options, **kwargs)
        else:
            job = target.enqueue(func, *args, unique=job_id is not None, **options, **kwargs)
    except DuplicateJobError:
        return job_id
    except RedisError:
        _DOWN_UNTIL[url] = time.monotonic() + BACKOFF_SECONDS
        raise
    _DOWN_UNTIL.pop(url, None)
    return job.id
