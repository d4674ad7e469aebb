"""Signing in and out, registration, passwords, 2FA and account settings: pages, and how a
request is tied to a user (a live server-side session, or a bearer token under /api/)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

from app.extensions import login_manager
from app.i18n import N_
from app.services.accounts import sessions, two_factor
from app.services.accounts.tokens import user_for_token
from app.services.errors import DomainError

bp = Blueprint("auth", __name__)

# Pages a signed-in user may still reach while they owe a new password or a 2FA enrolment.
_GATE_OPEN = {
    "auth.logout",
    "auth.choose_password",
    "auth.two_factor_settings",
    "auth.two_factor_enable",
    "auth.confirm",
    "auth.confirm_code_request",
    "auth.confirm_code",
    "main.home",
    "main.doctor_photo",
    "static",
}
# Requests a page makes by itself (the bell's poll): not activity, the idle sign-out stands.
BACKGROUND_ENDPOINTS = {"notifications.unread_count", "chat.unread_count"}


def init_login(app: Flask) -> None:
    # Administrators and helpers with a permission must enrol 2FA; apps built for tests
    # (TESTING) default to off so that other areas' tests can sign staff in with a password;
    # tests of the rule turn it on.
    app.config.setdefault("ADMIN_2FA_REQUIRED", not app.testing)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please sign in to continue.")
    login_manager.localize_callback = gettext  # flashed in the reader's language
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_session_user(user_id: str):
        # The JSON API authenticates by bearer token only: a browser session must not make
        # cross-site API calls (the API is exempt from CSRF for that reason).
        if request.path.startswith("/api/"):
            return None
        try:
            uid = int(user_id)
        except ValueError:
            return None
        return sessions.user_for_session(
            uid,
            session.get("sid"),
            now=datetime.now(UTC),
            idle_minutes=current_app.config["SESSION_IDLE_MINUTES"],
            # A socket (re)connecting is the page's own doing too, not activity.
            touch=request.endpoint not in BACKGROUND_ENDPOINTS
            and not request.path.startswith("/socket.io/"),
        )

    @login_manager.request_loader
    def load_token_user(req):
        if not req.path.startswith("/api/"):
            return None
        scheme, _, token = req.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return user_for_bearer(token)


def user_for_bearer(token: str):
    """The user of an API bearer token, or None (invalid, expired, revoked by a later
    token_version, or the account has come to owe 2FA). The API and Socket.IO ask this."""
    try:
        user = user_for_token(
            token.strip(), secret_key=current_app.secret_key, now=datetime.now(UTC)
        )
    except DomainError:
        return None
    # A token from before the account came to owe 2FA (a helper granted a permission).
    if two_factor.must_enrol(user, required=_admin_2fa_required()):
        return None
    return user


def owes_steps(user) -> bool:
    """A new password or a 2FA enrolment is owed before anything else (pages redirect to it;
    Socket.IO refuses the connection)."""
    return bool(user.must_change_password) or two_factor.must_enrol(
        user, required=_admin_2fa_required()
    )


@bp.before_app_request
def _owed_steps():
    """A temporary password must be replaced, and an administrator (or a helper with a
    permission) must enrol 2FA, before anything else."""
    if request.endpoint in _GATE_OPEN or request.path.startswith(("/api/", "/static/")):
        return None
    if not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        return redirect(url_for("auth.choose_password"))
    if two_factor.must_enrol(current_user, required=_admin_2fa_required()):
        return redirect(url_for("auth.two_factor_settings"))
    return None


def _admin_2fa_required() -> bool:
    return current_app.config["ADMIN_2FA_REQUIRED"]


from app.auth import account, codes, google, passwords, privacy, registration, routes  # noqa: E402,F401
