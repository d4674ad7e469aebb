"""`python -m workers`: the RQ worker and the periodic schedule, inside an app context.

    python -m workers            a worker on every queue, with RQ's scheduler (delayed jobs,
                                 retries) and RQ's cron scheduler (the periodic jobs) in a
                                 child process
    python -m workers worker     the worker only        python -m workers cron   cron only
    python -m workers --burst    run what is queued now, then exit (tests, one-off drains)

Several may run at once: queued jobs go to one worker each, and each periodic job runs once
per tick however many cron schedulers enqueue it (workers/jobs.py).
"""

from __future__ import annotations

import multiprocessing
import sys

from rq import Worker
from rq.cron import CronScheduler

from app import create_app
from app.services.queues import QUEUES, redis_connection
from workers.jobs import PERIODIC


def run_cron(redis_url: str) -> None:
    cron = CronScheduler(connection=redis_connection(redis_url))
    for job in PERIODIC:
        cron.register(job, queue_name="default", interval=job.interval, job_timeout=600)
    cron.start()


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    # Jobs emit to browsers through SOCKETIO_MESSAGE_QUEUE; the worker serves no socket.
    app = create_app({"SOCKETIO_WRITE_ONLY": True})
    redis_url = app.config["REDIS_URL"]
    if not redis_url:
        print("REDIS_URL is not set: jobs run inline in the web process.", file=sys.stderr)
        return 2
    if "cron" in args:
        run_cron(redis_url)
        return 0
    cron = None
    if "--burst" not in args and "worker" not in args:
        cron = multiprocessing.get_context("fork").Process(
            target=run_cron, args=(redis_url,), name="carebook-cron", daemon=True
        )
        cron.start()
    try:
        with app.app_context():
            worker = Worker(list(QUEUES), connection=redis_connection(redis_url))
            worker.work(burst="--burst" in args, with_scheduler=True)
    finally:
        if cron is not None:
            cron.terminate()
            cron.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
