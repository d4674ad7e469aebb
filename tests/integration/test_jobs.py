"""Background jobs: RQ on Redis when REDIS_URL is set, inline otherwise."""

from redis import Redis
from rq import Queue, SimpleWorker

from app.services.queues import enqueue

CALLS: list[tuple] = []


def record_call(*args, **kwargs):
    CALLS.append((args, kwargs))


def test_without_redis_jobs_run_inline(app, ctx):
    CALLS.clear()
    assert enqueue(record_call, 1, kind="x") is None
    assert CALLS == [((1,), {"kind": "x"})]


def test_with_redis_jobs_go_to_the_queue_and_a_worker_runs_them(
    make_app, database_url, redis_url, ctx
):
    CALLS.clear()
    app = make_app(database_url, REDIS_URL=redis_url)
    with app.app_context():
        job_id = enqueue(record_call, 2, queue="notifications", job_id="once-only")
        again = enqueue(record_call, 2, queue="notifications", job_id="once-only")
    connection = Redis.from_url(redis_url)
    queue = Queue("notifications", connection=connection)
    assert job_id == again == "once-only"
    assert queue.count == 1
    assert CALLS == []  # nothing ran in the web process

    SimpleWorker([queue], connection=connection).work(burst=True)
    assert CALLS == [((2,), {})]
    assert queue.count == 0
