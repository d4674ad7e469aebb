"""Request logging: one line per request, each tagged with a request id."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, g, has_request_context, request

from app import metrics
from app.services import audit

log = logging.getLogger("carebook.request")
# The root handler create_app installs: found by name when create_app runs again (tests).
HANDLER_NAME = "carebook"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    # create_app may run more than once in a process (tests): keep a single handler.
    for existing in list(root.handlers):
        if existing.get_name() == HANDLER_NAME:
            root.removeHandler(existing)
    handler.set_name(HANDLER_NAME)
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])

    @app.before_request
    def _start_request() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        # Accept a caller's id only when it is short and printable: it ends up in logs.
        ok = 0 < len(incoming) <= 64 and incoming.replace("-", "").isalnum()
        g.request_id = incoming if ok else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        # Audit entries of this request carry its client address (after ProxyFix).
        g.audit_address_token = audit.client_address.set(request.remote_addr)

    @app.teardown_request
    def _end_request(_exc: BaseException | None) -> None:
        token = g.pop("audit_address_token", None)
        if token is not None:
            audit.client_address.reset(token)

    @app.after_request
    def _log_request(response):
        elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        log.info(
            "%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed * 1000
        )
        # The same moment feeds /metrics: counts and latency by endpoint (never the raw path,
        # which would make one series per URL) and status.
        endpoint = request.url_rule.endpoint if request.url_rule is not None else None
        metrics.observe_request(request.method, endpoint, response.status_code, elapsed)
        return response
