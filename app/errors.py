"""One mapping from errors to responses: JSON under /api/, a page everywhere else."""

from __future__ import annotations

import logging

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, lazy_gettext
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    SecurityError,
    default_exceptions,
)

from app.extensions import db
from app.i18n import N_, speaking, visitor_locale
from app.security import upload_view
from app.services.errors import DomainError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """API and webhook paths, and a page's own fetch that accepts JSON only (the bell's poll
    gets a 401, not a sign-in redirect with a flash message meant for a person)."""
    if request.path.startswith(("/api/", "/webhooks/")):
        return True
    accepted = request.accept_mimetypes
    return accepted.best == "application/json" and not accepted.accept_html


# The site's own words for the pages people reach most, in place of Werkzeug's stock text.
PAGE_TITLES = {
    400: lazy_gettext("That request did not work"),
    401: lazy_gettext("Please sign in"),
    403: lazy_gettext("You do not have access to this page"),
    404: lazy_gettext("Page not found"),
    405: lazy_gettext("That does not work here"),
    413: lazy_gettext("That is too large"),
    429: lazy_gettext("Too many attempts"),
    500: lazy_gettext("Something went wrong"),
    503: lazy_gettext("Carebook is briefly unavailable"),
}
PAGE_MESSAGES = {
    403: lazy_gettext(
        "Your account cannot open this page. If you think it should, sign in with another "
        "account or ask an administrator."
    ),
    404: lazy_gettext(
        "We could not find that page. The link may be mistyped, or the page may have moved."
    ),
}
# Werkzeug's own words for the other statuses, in the reader's language on pages (the same
# English text: the API keeps it).
STOCK_MESSAGES = {
    400: lazy_gettext(
        "The browser (or proxy) sent a request that this server could not understand."
    ),
    401: lazy_gettext(
        "The server could not verify that you are authorized to access the URL requested. You "
        "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
        "understand how to supply the credentials required."
    ),
    405: lazy_gettext("The method is not allowed for the requested URL."),
    413: lazy_gettext("The data value transmitted exceeds the capacity limit."),
    429: lazy_gettext("This user has exceeded an allotted request count. Try again later."),
    500: lazy_gettext(
        "The server encountered an internal error and was unable to complete your request. "
        "Either the server is overloaded or there is an error in the application."
    ),
}
# Fields a 429 page never writes back into the page: secrets are typed again.
SECRET_FIELDS = ("password", "confirm", "code", "otp", "csrf_token", "token")


def error_response(status: int, code: str, message: str, details: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if details:
            body["error"]["details"] = details
        return jsonify(body), status
    kept = _kept_input() if status == 429 else []
    page = render_template(
        "errors/error.html",
        status=status,
        title=str(PAGE_TITLES.get(status) or gettext("Error %(status)s", status=status)),
        message=str(_page_message(status, message)),
        kept=kept,
    )
    return page, status


def _page_message(status: int, message: str):
    """Werkzeug's stock text in the reader's language; any other message as it is."""
    stock = default_exceptions.get(status)
    if stock is not None and message == stock.description and status in STOCK_MESSAGES:
        return STOCK_MESSAGES[status]
    return message


def _kept_input() -> list[tuple[str, str]]:
    """What a refused form carried (but secrets), for the 429 page to send again: a person who
    waited does not type it all a second time."""
    if request.method != "POST":
        return []
    return [
        (name, value)
        for name, value in request.form.items(multi=True)
        if not any(secret in name.lower() for secret in SECRET_FIELDS)
    ]


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def handle_domain_error(exc: DomainError):
    body, status = error_response(exc.status_code, exc.code, exc.message, exc.details or None)
    return body, status, retry_after_header(exc)


def retry_after_header(exc: DomainError) -> dict:
    """`Retry-After` for a refusal that names its wait (a sign-in backoff), and for a 503 (a
    provider out of reach: worth trying again shortly)."""
    retry_after = exc.details.get("retry_after")
    if not retry_after and exc.status_code == 503:
        retry_after = UNAVAILABLE_RETRY_AFTER
    return {"Retry-After": str(retry_after)} if retry_after else {}


def upload_too_large():
    """A file too large for an upload form: back to the form's page with the reason (a
    person picked the wrong file; an error page would lose the page they were on)."""
    view = upload_view(current_app)
    limit = current_app.config[view.upload_limit_key]
    flash(
        gettext(
            "That file is larger than the %(megabytes)s MB allowed: choose a smaller one.",
            megabytes=format(limit / (1024 * 1024), "g"),
        ),
        "error",
    )
    return redirect(url_for(view.upload_page, **request.args), 303)


def handle_http_exception(exc: HTTPException):
    if exc.code is None or isinstance(exc, Response):
        return exc
    if exc.code == 413 and not wants_json() and upload_view(current_app) is not None:
        return upload_too_large()
    details = None
    message = exc.description or exc.name
    if not wants_json() and exc.description == type(exc).description:
        message = PAGE_MESSAGES.get(exc.code, message)  # only Werkzeug's stock text
    data = getattr(exc, "data", None)  # webargs/flask-smorest validation errors
    if data and data.get("messages"):
        details = data["messages"]
        if exc.code == 422:
            message = gettext("Some of the input is not valid.")
    response = error_response(exc.code, _http_code(exc), message, details)
    if exc.code == 405 and exc.valid_methods:
        body, status = response
        return body, status, {"Allow": ", ".join(exc.valid_methods)}
    return response


def handle_untrusted_host(_exc: SecurityError):
    """A Host header outside TRUSTED_HOSTS: no page (it would build links for that host)."""
    return Response("Unknown host.\n", status=400, mimetype="text/plain")


# A dependency out of reach for a moment (PostgreSQL restarting, Redis down where it is
# needed): 503 with Retry-After, never a traceback. pool_pre_ping and the next request's fresh
# connection bring the app back by itself once it returns.
UNAVAILABLE_RETRY_AFTER = 5
UNAVAILABLE_MESSAGE = N_(
    "Carebook cannot reach a service it needs right now. Please try again in a few seconds."
)


def handle_database_error(exc: DBAPIError):
    """OperationalError / InterfaceError are the server or the line failing (gone, restarting,
    a deadlock or lock timeout); any other DBAPIError only when it cost the connection."""
    if not isinstance(exc, OperationalError | InterfaceError) and not exc.connection_invalidated:
        return handle_unexpected(exc)
    return service_unavailable("database", exc)


def service_unavailable(what: str, exc: BaseException):
    log.warning(
        "%s unavailable on %s %s: %s",
        what,
        request.method,
        request.path,
        str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
    )
    if what == "database":
        _forget_broken_session()
    # Never cached, and no-store says so to the security headers, which then need not ask
    # the database who is signed in.
    headers = {"Retry-After": str(UNAVAILABLE_RETRY_AFTER), "Cache-Control": "no-store"}
    if wants_json():
        body = {"error": {"code": "service_unavailable", "message": UNAVAILABLE_MESSAGE}}
        return jsonify(body), 503, headers
    # Its own page, rendered without the context processors: those and the site's layout
    # read the database (Flask-Login loads the signed-in user for every template).
    # In the visitor's language from the request alone (the account's setting is in the
    # database).
    with speaking(visitor_locale()):
        page = current_app.jinja_env.get_template("errors/unavailable.html").render(
            title=str(PAGE_TITLES[503]),
            message=gettext(UNAVAILABLE_MESSAGE),
            retry_after=UNAVAILABLE_RETRY_AFTER,
            current_locale=visitor_locale() or "en",
        )
    return page, 503, headers


def _forget_broken_session() -> None:
    """Roll the request's session back (its connection is already invalidated) so that nothing
    later in the request, an after-request hook say, trips over the failed transaction."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the pool has already dropped it
        log.debug("rollback after a database failure failed too", exc_info=True)


def handle_redis_unavailable(exc: Exception):
    return service_unavailable("redis", exc)


def handle_unexpected(_exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", InternalServerError.description)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DBAPIError, handle_database_error)
    # The pool gave no connection in time; a session whose connection died mid-transaction.
    for lost in (PoolTimeout, PendingRollbackError):
        app.register_error_handler(lost, lambda exc: service_unavailable("database", exc))
    app.register_error_handler(RedisConnectionError, handle_redis_unavailable)
    app.register_error_handler(RedisTimeoutError, handle_redis_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
