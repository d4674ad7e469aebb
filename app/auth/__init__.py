"""Signing in and out: pages, and how a request is tied to a user."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, current_app, request

from app.extensions import login_manager

bp = Blueprint("auth", __name__)


def init_login(app: Flask) -> None:
    from app.services.accounts import get_active_user
    from app.services.errors import DomainError
    from app.services.tokens import user_for_token

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_session_user(user_id: str):
        # The JSON API authenticates by bearer token only: a browser session must not make
        # cross-site API calls (the API is exempt from CSRF for that reason).
        if request.path.startswith("/api/"):
            return None
        try:
            return get_active_user(int(user_id))
        except ValueError:
            return None

    @login_manager.request_loader
    def load_token_user(req):
        if not req.path.startswith("/api/"):
            return None
        scheme, _, token = req.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return user_for_token(
                token.strip(), secret_key=current_app.secret_key, now=datetime.now(UTC)
            )
        except DomainError:
            return None


from app.auth import routes  # noqa: E402,F401
