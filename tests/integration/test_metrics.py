"""/metrics: the Prometheus text format (parsed by prometheus_client's own parser) with the
request histogram by endpoint and status, bookings and payments by outcome and the queue
depths; served to the bearer token of METRICS_TOKEN, or without one to loopback only."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from app.models import AppointmentStatus, PaymentMethod, PaymentStatus
from app.services import queues
from tests import servers
from tests.factories import make_appointment, make_payment, make_slot

TOKEN = "s3cret-metrics-token"


def _families(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}


def _value(family, **labels) -> float | None:
    for sample in family.samples:
        if all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    return None


@pytest.fixture
def fresh(make_app, database_url, app, ctx):
    """An app whose database gauges are read at every scrape."""

    def build(**overrides):
        return make_app(database_url, METRICS_DB_CACHE_SECONDS=0, **overrides).test_client()

    return build


def test_the_exposition_parses_and_has_the_request_histogram(fresh):
    client = fresh()
    assert client.get("/healthz").status_code == 200
    assert client.get("/no-such-page").status_code == 404

    families = _families(client.get("/metrics"))

    histogram = families["carebook_http_request_duration_seconds"]
    assert histogram.type == "histogram"
    labels = {"endpoint": "main.healthz", "method": "GET", "status": "200"}
    buckets = [s for s in histogram.samples if s.name.endswith("_bucket") and
               all(s.labels.get(k) == v for k, v in labels.items())]  # fmt: skip
    assert {s.labels["le"] for s in buckets} >= {"0.005", "0.1", "1.0", "+Inf"}
    count = [s for s in histogram.samples if s.name.endswith("_count")]
    assert any(s.labels == labels and s.value >= 1 for s in count)
    requests = families["carebook_http_requests"]
    assert requests.type == "counter"
    assert _value(requests, **labels) >= 1
    # A URL no route knows is one series, not one per path.
    assert _value(requests, endpoint="unmatched", status="404") >= 1
    assert all(s.labels["endpoint"] != "/no-such-page" for s in requests.samples)


def test_bookings_and_payments_by_outcome_come_from_the_database(fresh):
    client = fresh()
    slot = make_slot()
    make_appointment(slot, status=AppointmentStatus.CANCELLED)
    make_appointment(slot, status=AppointmentStatus.CONFIRMED, payment_method=PaymentMethod.CARD)
    make_appointment(make_slot(), status=AppointmentStatus.CONFIRMED)
    make_payment(make_appointment(make_slot(), status=AppointmentStatus.COMPLETED))
    make_payment(
        make_appointment(make_slot(), status=AppointmentStatus.CANCELLED),
        status=PaymentStatus.REFUNDED,
        amount_refunded=5000,
        amount_captured=5000,
    )

    families = _families(client.get("/metrics"))

    appointments = families["carebook_appointments"]
    assert _value(appointments, status="confirmed") == 2
    assert _value(appointments, status="cancelled") == 2
    assert _value(appointments, status="completed") == 1
    payments = families["carebook_payments"]
    assert _value(payments, status="captured") == 1
    assert _value(payments, status="refunded") == 1
    assert "carebook_notifications" in families


def test_queue_depths_are_read_from_rq(fresh, redis_url):
    client = fresh(REDIS_URL=redis_url)
    queue = Queue("notifications", connection=queues.redis_connection(redis_url))
    queue.enqueue("workers.jobs.deliver_notifications", [])
    queue.enqueue("workers.jobs.deliver_notifications", [])

    families = _families(client.get("/metrics"))

    assert _value(families["carebook_queue_up"]) == 1
    jobs = families["carebook_queue_jobs"]
    assert _value(jobs, queue="notifications", state="queued") == 2
    assert _value(jobs, queue="default", state="queued") == 0
    assert _value(jobs, queue="notifications", state="failed") == 0


def test_redis_down_is_a_zero_not_an_error(fresh):
    client = fresh(REDIS_URL=f"redis://127.0.0.1:{servers.free_port()}/0")
    families = _families(client.get("/metrics"))
    assert _value(families["carebook_queue_up"]) == 0


def test_with_a_token_only_its_bearer_reads_the_metrics(fresh):
    client = fresh(METRICS_TOKEN=TOKEN)
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert "invalid_token" in wrong.headers["WWW-Authenticate"]
    prefix = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN[:-1]}"})
    assert prefix.status_code == 401
    basic = client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    assert "carebook_" not in wrong.get_data(as_text=True)

    good = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert "carebook_http_requests" in _families(good)
    assert good.headers["Cache-Control"] == "no-store"
    # The token works from any address (a Prometheus server elsewhere).
    remote = client.get(
        "/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert remote.status_code == 200


def test_without_a_token_only_loopback_peers_are_served(fresh):
    client = fresh()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 403
    assert "carebook_" not in remote.get_data(as_text=True)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    # A header never makes a remote peer local, and a forwarded request is not local either
    # (a proxy on this machine connects from loopback on a visitor's behalf).
    spoofed = client.get(
        "/metrics",
        headers={"X-Forwarded-For": "127.0.0.1"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert spoofed.status_code == 403
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403


def test_behind_a_trusted_proxy_a_token_is_required(fresh):
    client = fresh(TRUSTED_PROXY_COUNT=1)
    # ProxyFix would take X-Forwarded-For as the client: still no metrics without a token.
    response = client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.get_data(as_text=True)
    assert client.get("/metrics").status_code == 403
    with_token = fresh(TRUSTED_PROXY_COUNT=1, METRICS_TOKEN=TOKEN)
    ok = with_token.get(
        "/metrics",
        headers={"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "203.0.113.9"},
    )
    assert ok.status_code == 200
