"""JSON API v1 (flask-smorest): bearer-token auth, one error shape, OpenAPI generated."""

from __future__ import annotations

import marshmallow as ma
from flask import Flask
from flask_smorest import Api, Blueprint

from app.extensions import csrf


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


bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Carebook API v1")


def init_api(app: Flask) -> None:
    from app.api import routes  # noqa: F401  (registers the endpoints on bp)

    # One Api per app (not a module global): the OpenAPI spec is built per application.
    api = CarebookApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}}
        },
    )
    api.register_blueprint(bp)
    csrf.exempt(bp)
