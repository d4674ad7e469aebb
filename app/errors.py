"""One mapping from errors to responses: JSON under /api/, a page everywhere else."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from app.services.errors import DomainError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/webhooks/")


def error_response(status: int, code: str, message: str, details: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if details:
            body["error"]["details"] = details
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def handle_domain_error(exc: DomainError):
    body, status = error_response(exc.status_code, exc.code, exc.message, exc.details or None)
    return body, status, retry_after_header(exc)


def retry_after_header(exc: DomainError) -> dict:
    """`Retry-After` for a refusal that names its wait (a sign-in backoff)."""
    retry_after = exc.details.get("retry_after")
    return {"Retry-After": str(retry_after)} if retry_after else {}


def handle_http_exception(exc: HTTPException):
    if exc.code is None or isinstance(exc, Response):
        return exc
    details = None
    message = exc.description or exc.name
    data = getattr(exc, "data", None)  # webargs/flask-smorest validation errors
    if data and data.get("messages"):
        details = data["messages"]
        if exc.code == 422:
            message = "Some of the input is not valid."
    response = error_response(exc.code, _http_code(exc), message, details)
    if exc.code == 405 and exc.valid_methods:
        body, status = response
        return body, status, {"Allow": ", ".join(exc.valid_methods)}
    return response


def handle_untrusted_host(_exc: SecurityError):
    """A Host header outside TRUSTED_HOSTS: no page (it would build links for that host)."""
    return Response("Unknown host.\n", status=400, mimetype="text/plain")


def handle_unexpected(_exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", InternalServerError.description)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
