"""`python -m workers`: an RQ worker on Carebook's queues, inside an app context."""

from __future__ import annotations

import sys

from rq import Worker

from app import create_app
from workers.queues import QUEUES, redis_connection


def main(argv: list[str] | None = None) -> int:
    app = create_app()
    redis_url = app.config["REDIS_URL"]
    if not redis_url:
        print("REDIS_URL is not set: jobs run inline in the web process.", file=sys.stderr)
        return 2
    burst = "--burst" in (argv if argv is not None else sys.argv[1:])
    with app.app_context():
        worker = Worker(list(QUEUES), connection=redis_connection(redis_url))
        worker.work(burst=burst, with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
