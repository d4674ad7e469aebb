"""Home page, navigation and the health endpoints."""

from flask import Blueprint

from app.main.navigation import nav_links

bp = Blueprint("main", __name__)


@bp.app_context_processor
def _navigation():
    return {"nav_links": nav_links}


from app.main import language, media, onboarding, pages, routes  # noqa: E402,F401
