"""The interactive API documentation: Swagger UI (vendored, static/vendor/swagger-ui) over
the OpenAPI document flask-smorest builds at /api/v1/openapi.json.

A plain Flask blueprint, not one of the API's: the page is HTML for people, not an operation
of the API, so it stays out of the document it shows.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from app.rbac import public

bp = Blueprint("api_reference", __name__, url_prefix="/api/v1")


@bp.route("/docs")
@public
def docs():
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))
