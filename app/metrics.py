"""`/metrics` in the Prometheus text format (prometheus_client).

What is measured, and where it stays correct:

- Requests: `carebook_http_requests_total` and the latency histogram
  `carebook_http_request_duration_seconds`, by method, endpoint (the Flask endpoint name, so
  the label set stays small; "unmatched" for URLs no route knows) and status, observed where
  every request is logged (app/requestlog.py). These live in the serving process. With more
  than one gunicorn worker process set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by
  them (emptied before gunicorn starts): prometheus_client then keeps each process's values
  in files there and a scrape of any process adds them all up. Without it, a scrape sees the
  one process that answered (right for `make run` and the Docker image: one gevent process).
- Bookings, payments and the outbox by outcome: gauges read from the database at scrape time
  (`carebook_appointments{status}`, `carebook_payments{status}`,
  `carebook_notifications{channel,status}`), so they are the same whichever process answers,
  count what the RQ workers did as well, and survive restarts. They are cached for
  METRICS_DB_CACHE_SECONDS in each process so that frequent scrapes cost one query each.
- Queue depths: RQ's counts per queue and state (`carebook_queue_jobs{queue,state}`, from
  services/queue_health.py), and whether Redis answered (`carebook_queue_up`).

Who may read it: with METRICS_TOKEN set, a request carrying `Authorization: Bearer <token>`
(compared in constant time), from anywhere. Without a token, only a request whose TCP peer is
a loopback address and that carries no forwarding header, and never when TRUSTED_PROXY_COUNT
says a proxy is in front (a proxy on the same host would make every visitor a loopback peer).
The peer is the socket's address, not X-Forwarded-For.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time

from flask import Flask, Response, current_app, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.rbac import public

log = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded", "X-Forwarded-Host")
# No `_created` series: their timestamps say when a process first saw a label set, noise here.
disable_created_metrics()
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# The process's own metrics: one registry for the life of the process (create_app may run
# many times in one process, as in the tests; the metrics are made once).
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "carebook_http_requests",
    "HTTP requests answered, by method, endpoint and status.",
    ("method", "endpoint", "status"),
    registry=REGISTRY,
)
LATENCY = Histogram(
    "carebook_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, endpoint and status.",
    ("method", "endpoint", "status"),
    buckets=BUCKETS,
    registry=REGISTRY,
)


def observe_request(method: str, endpoint: str | None, status: int, seconds: float) -> None:
    labels = (method, endpoint or "unmatched", str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


# --- read at scrape time ----------------------------------------------------------------------

_cache: dict[str, tuple[float, list]] = {}


def _database_families() -> list[GaugeMetricFamily]:
    from app.models import Appointment, Notification, Payment  # noqa: PLC0415 — models load with the app

    appointments = GaugeMetricFamily(
        "carebook_appointments",
        "Appointments in the database by status: bookings by outcome (held, confirmed, "
        "completed, cancelled, no-show, rejected, expired).",
        labels=("status",),
    )
    for status, count in db.session.execute(
        select(Appointment.status, func.count()).group_by(Appointment.status)
    ):
        appointments.add_metric((status.value,), count)
    payments = GaugeMetricFamily(
        "carebook_payments",
        "Card payments in the database by status: payments by outcome.",
        labels=("status",),
    )
    for status, count in db.session.execute(
        select(Payment.status, func.count()).group_by(Payment.status)
    ):
        payments.add_metric((status.value,), count)
    notifications = GaugeMetricFamily(
        "carebook_notifications",
        "Notifications in the outbox by channel and status (pending ones wait for delivery).",
        labels=("channel", "status"),
    )
    for channel, status, count in db.session.execute(
        select(Notification.channel, Notification.status, func.count()).group_by(
            Notification.channel, Notification.status
        )
    ):
        notifications.add_metric((channel.value, status.value), count)
    db.session.rollback()  # a read: end the transaction the queries opened
    return [appointments, payments, notifications]


def _queue_families() -> list[GaugeMetricFamily]:
    from app.services import queue_health  # noqa: PLC0415 — the services load with the app

    mode, counts = queue_health.depths()
    families = []
    if mode is not queue_health.Mode.INLINE:
        up = GaugeMetricFamily(
            "carebook_queue_up", "1 when Redis answered for the RQ queues, else 0."
        )
        up.add_metric((), 1 if mode is queue_health.Mode.UP else 0)
        families.append(up)
    jobs = GaugeMetricFamily(
        "carebook_queue_jobs",
        "RQ jobs per queue and state (queued, started, failed, scheduled, deferred); none "
        "without REDIS_URL, when jobs run in the web process.",
        labels=("queue", "state"),
    )
    for queue in counts:
        for state in ("queued", "started", "failed", "scheduled", "deferred"):
            jobs.add_metric((queue.name, state), getattr(queue, state))
    families.append(jobs)
    return families


def _cached(name: str, build, seconds: float) -> list:
    """`build()`, reused for `seconds` in this process (per database: tests build many apps)."""
    key = f"{name}:{current_app.config['SQLALCHEMY_DATABASE_URI']}"
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < seconds:
        return hit[1]
    families = build()
    _cache[key] = (now, families)
    return families


class _ScrapeTime:
    """A collector for one scrape: what was read from the database and Redis."""

    def __init__(self, families: list):
        self._families = families

    def collect(self):
        yield from self._families


def exposition() -> bytes:
    """The whole text exposition: the request metrics (this process, or every process with
    PROMETHEUS_MULTIPROC_DIR) and the gauges read now."""
    if MULTIPROCESS:
        process = CollectorRegistry()
        MultiProcessCollector(process)
    else:
        process = REGISTRY
    seconds = current_app.config.get("METRICS_DB_CACHE_SECONDS", 15)
    families = []
    try:
        families += _cached("database", _database_families, seconds)
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("metrics: the database did not answer: %s", exc)
    families += _queue_families()
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_ScrapeTime(families))
    return generate_latest(process) + generate_latest(scrape)


# --- who may read it ----------------------------------------------------------------------------


def _peer_address() -> str:
    """The TCP peer, as the server saw it: ProxyFix keeps the original REMOTE_ADDR."""
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return original.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR") or ""


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def refusal() -> Response | None:
    """None when this request may read the metrics, else the answer to give."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return _plain(401, "A bearer token is required.", {"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            return _plain(
                401, "The token is not valid.", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return None
    if current_app.config.get("TRUSTED_PROXY_COUNT"):
        return _plain(403, "Behind a proxy, /metrics needs METRICS_TOKEN.")
    if not _is_loopback(_peer_address()) or any(h in request.headers for h in FORWARDING_HEADERS):
        return _plain(403, "Without METRICS_TOKEN, /metrics answers the local machine only.")
    return None


def _plain(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain", headers=headers or {})


@public  # its own rule: a bearer token, or a loopback peer (refusal())
def metrics_view():
    refused = refusal()
    if refused is not None:
        refused.headers["Cache-Control"] = "no-store"
        return refused
    response = Response(exposition(), status=200, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_metrics(app: Flask) -> None:
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
