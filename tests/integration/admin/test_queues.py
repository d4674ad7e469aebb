"""/admin/queues: RQ's queues, workers and cron schedulers as staff see them, failed jobs
retried or deleted (audited), and the pages for no queue at all and for Redis down."""

from __future__ import annotations

import re

import pytest
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.cron import CronScheduler
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.worker import WorkerStatus
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from tests.integration.admin.conftest import make_admin, sign_in
from tests.servers import free_port


def explode() -> None:
    raise RuntimeError("the printer is on fire")


def wait_here() -> None:
    """A job that stays queued: no worker runs the notifications queue in these tests."""


@pytest.fixture
def connection(redis_url):
    return Redis.from_url(redis_url)


@pytest.fixture
def queued_web(make_app, database_url, redis_url, ctx):
    web = make_app(database_url, REDIS_URL=redis_url).test_client()
    sign_in(web, make_admin())
    return web


def _fail_one(connection) -> Job:
    queue = Queue("default", connection=connection)
    job = queue.enqueue(explode)
    SimpleWorker([queue], connection=connection).work(burst=True)
    assert job.get_status(refresh=True) == "failed"
    return job


def _count(page: str, queue: str, what: str) -> int:
    row = re.search(rf'data-testid="queue-{queue}">(.*?)</tr>', page, re.S).group(1)
    return int(re.search(rf'data-count="{what}">(?:<strong>)?(\d+)', row).group(1))


def _audited(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_the_page_counts_queued_and_failed_jobs_and_lists_the_failure(queued_web, connection):
    Queue("notifications", connection=connection).enqueue(wait_here)
    failed = _fail_one(connection)

    response = queued_web.get("/admin/queues")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _count(page, "notifications", "queued") == 1
    assert _count(page, "notifications", "failed") == 0
    assert _count(page, "default", "queued") == 0
    assert _count(page, "default", "failed") == 1
    assert _count(page, "default", "started") == 0
    assert _count(page, "default", "scheduled") == 0
    [row] = re.findall(r'data-testid="failed-job">(.*?)</tr>', page, re.S)
    assert failed.id in row
    assert "tests.integration.admin.test_queues.explode" in row
    assert "RuntimeError: the printer is on fire" in row
    assert "Traceback" not in row  # the last line only
    assert "No worker is alive" in page and "No cron scheduler is alive" in page


def test_live_workers_and_cron_schedulers_are_listed(queued_web, connection):
    worker = Worker(["notifications", "default"], connection=connection, name="carebook-w1")
    worker.register_birth()
    worker.set_state(WorkerStatus.BUSY)
    worker.set_current_job_id("notifications-7-7-1")
    cron = CronScheduler(connection=connection, name="carebook-cron-1")
    cron.register(wait_here, queue_name="default", interval=60)
    cron.register_birth()
    try:
        page = queued_web.get("/admin/queues").get_data(as_text=True)
    finally:
        worker.register_death()
        cron.register_death()
    workers = re.search(r'data-testid="workers">(.*?)</table>', page, re.S).group(1)
    assert "carebook-w1" in workers and "notifications, default" in workers
    assert ">busy<" in workers and "notifications-7-7-1" in workers
    schedulers = re.search(r'data-testid="cron">(.*?)</table>', page, re.S).group(1)
    assert "carebook-cron-1" in schedulers
    assert "tests.integration.admin.test_queues.wait_here" in schedulers


def test_a_failed_job_is_retried_onto_its_queue_and_audited(queued_web, connection):
    job = _fail_one(connection)
    page = queued_web.post(f"/admin/queues/default/failed/{job.id}/retry", follow_redirects=True)
    assert f"Job {job.id} is back on default." in page.get_data(as_text=True)
    queue = Queue("default", connection=connection)
    assert queue.count == 1 and queue.failed_job_registry.count == 0
    [entry] = _audited("queue.job_retried")
    assert entry.target_id == job.id and entry.data == {"queue": "default"}
    assert entry.actor.role.value == "admin"

    # it runs again (and fails again, being what it is)
    SimpleWorker([queue], connection=connection).work(burst=True)
    assert queue.failed_job_registry.count == 1


def test_a_failed_job_is_deleted_for_good_and_audited(queued_web, connection):
    job = _fail_one(connection)
    page = queued_web.post(f"/admin/queues/default/failed/{job.id}/delete", follow_redirects=True)
    assert f"Job {job.id} was deleted." in page.get_data(as_text=True)
    assert Queue("default", connection=connection).failed_job_registry.count == 0
    with pytest.raises(NoSuchJobError):
        Job.fetch(job.id, connection=connection)
    assert len(_audited("queue.job_deleted")) == 1
    assert "No failed job." in page.get_data(as_text=True)


def test_only_failed_jobs_can_be_retried_or_deleted(queued_web, connection):
    waiting = Queue("notifications", connection=connection).enqueue(wait_here)
    for url in (
        f"/admin/queues/notifications/failed/{waiting.id}/delete",
        f"/admin/queues/notifications/failed/{waiting.id}/retry",
        "/admin/queues/default/failed/no-such-job/retry",
        "/admin/queues/elsewhere/failed/no-such-job/delete",
    ):
        page = queued_web.post(url, follow_redirects=True)
        assert page.status_code == 200, url
        assert "There is no such failed job" in page.get_data(as_text=True), url
    assert Queue("notifications", connection=connection).count == 1  # untouched
    assert _audited("queue.job_retried") == _audited("queue.job_deleted") == []


def test_without_redis_the_page_says_jobs_run_inline(web, admin):
    response = web.get("/admin/queues")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "jobs run inline in the web process" in page
    assert 'data-testid="queue-counts"' not in page
    retried = web.post("/admin/queues/default/failed/some-job/retry", follow_redirects=True)
    assert "jobs run inline in the web process, none can fail" in retried.get_data(as_text=True)
    assert _audited("queue.job_retried") == []


def test_with_redis_down_the_page_says_so(make_app, database_url, ctx):
    web = make_app(database_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    sign_in(web, make_admin())
    response = web.get("/admin/queues")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Redis cannot be reached" in page and "ConnectionError" in page
    deleted = web.post("/admin/queues/default/failed/some-job/delete", follow_redirects=True)
    assert deleted.status_code == 200
    assert "Redis cannot be reached" in deleted.get_data(as_text=True)
    assert _audited("queue.job_deleted") == []
