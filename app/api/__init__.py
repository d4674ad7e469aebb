"""JSON API v1 (flask-smorest): bearer-token auth, one error shape, OpenAPI generated."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from flask_smorest import Api
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map

from app.api.fields import MAX_INT
from app.api.openapi import ApiDocumentPlugin
from app.api.parsing import ApiBlueprint, BodyJSONProvider
from app.extensions import csrf
from app.security import upload_view


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


class CarebookApi(Api):
    """flask-smorest's Api, minus its app-wide error handler: app/errors.py is the one
    mapping from errors to responses (JSON `{"error": {"code", "message"}}` under /api/)."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all `default` answer: app/api/openapi.py documents each error status it gives.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass


bp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="Carebook API v1")

# Path ids, as in f"/slots/<{ID}:slot_id>": outside PostgreSQL's integer is a plain 404.
ID = "id"


class IdConverter(IntegerConverter):
    """A row id in a path, 1 to 2**31 - 1 (documented so). Another number is a 404 from the
    converter itself: Werkzeug's own range check only skips the rule, and its matcher then
    answers 405 when a rule of another method matched the same path."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_INT)

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_INT:
            raise NotFound()
        return number


# For @bp.doc(**BEARER) on views that need a token.
BEARER = {"security": [{"bearerAuth": []}]}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def request_now() -> datetime:
    """The request's one "now": what the services decide with and what `actions` show."""
    if "api_now" not in g:
        g.api_now = datetime.now(UTC)
    return g.api_now


@bp.before_request
def require_token():
    """A view behind a token answers 401 to a caller without one before it reads any input:
    the anonymous learn nothing of its validation rules (and get the status it documents)."""
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "access_rule", "public") != "public" and not current_user.is_authenticated:
        abort(401, "The access token is missing, invalid or expired.")


@bp.before_request
def require_json_body():
    """A body in any other format would be silently ignored by the JSON parser: refuse it
    (but multipart form data to a view that takes an upload)."""
    if request.method not in _BODY_METHODS or request.is_json:
        return
    if request.mimetype == "multipart/form-data" and upload_view(current_app) is not None:
        return  # an upload (a chat attachment): the view reads the form itself
    if request.content_length or request.mimetype or request.headers.get("Transfer-Encoding"):
        abort(415, "Send the request body as JSON (Content-Type: application/json).")


def init_api(app: Flask) -> None:
    # request.get_json() on a body nested too deeply: a 400, not a RecursionError (a 500).
    app.json = BodyJSONProvider(app)
    # Importing the route modules registers their endpoints on bp (they import bp from here).
    from app.api import (  # noqa: F401, PLC0415
        appointments,
        chat,
        consults,
        directory,
        doctors,
        notifications,
        privacy,
        reports,
        reviews,
        routes,
        slots,
    )

    app.url_map.converters[ID] = IdConverter
    # One Api per app (not a module global): the OpenAPI spec is built per application.
    document = ApiDocumentPlugin(app)
    api = CarebookApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "extra_plugins": [document],
        },
    )
    api.register_blueprint(bp)
    from app.payments.api import bp as payments_api_bp  # noqa: PLC0415 — it imports app.api

    api.register_blueprint(payments_api_bp)
    document.add_links()
    csrf.exempt(bp)
    from app.api import docs  # noqa: PLC0415

    app.register_blueprint(docs.bp)
