"""Putting work on a queue, or running it inline when no Redis is configured.

Callers enqueue after their transaction has committed. With REDIS_URL set, the job goes to an
RQ queue and a worker (`python -m workers`) runs it; without it (the embedded default of
`make run`) the job runs at once in this process.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

QUEUES = ("notifications", "default")


def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


def enqueue(
    func: Callable, *args, queue: str = "default", job_id: str | None = None, **kwargs
) -> str | None:
    """Run `func(*args, **kwargs)` in the background; returns the RQ job id (None inline).

    A `job_id` makes the enqueue idempotent: RQ keeps one job per id.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        func(*args, **kwargs)
        return None
    try:
        job = Queue(queue, connection=redis_connection(redis_url)).enqueue(
            func,
            *args,
            job_id=job_id,
            unique=job_id is not None,
            retry=Retry(max=3, interval=[10, 60, 300]),
            **kwargs,
        )
    except DuplicateJobError:
        return job_id
    return job.id
