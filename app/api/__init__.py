"""JSON API v1 (flask-smorest): bearer-token auth, one error shape, OpenAPI generated."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from flask import Flask, abort, current_app, g, request
from flask_smorest import Api

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

    def _register_error_handlers(self):
        pass


bp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="Carebook API v1")

# Path ids, as in f"/slots/<{ID}:slot_id>": beyond PostgreSQL's integer is a plain 404.
ID = f"int(max={2**31 - 1})"
# For @bp.doc(**BEARER) on views that need a token.
BEARER = {"security": [{"bearerAuth": []}]}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def request_now() -> datetime:
    """The request's one "now": what the services decide with and what `actions` show."""
    if "api_now" not in g:
        g.api_now = datetime.now(UTC)
    return g.api_now


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

    # One Api per app (not a module global): the OpenAPI spec is built per application.
    api = CarebookApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}}
        },
    )
    api.register_blueprint(bp)
    from app.payments.api import bp as payments_api_bp  # noqa: PLC0415 — it imports app.api

    api.register_blueprint(payments_api_bp)
    csrf.exempt(bp)
    from app.api import docs  # noqa: PLC0415

    app.register_blueprint(docs.bp)
