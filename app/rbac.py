"""Roles and permissions, and the decorators every view declares its rule with."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_babel import gettext
from flask_login import current_user

from app.errors import wants_json
from app.extensions import login_manager
from app.models import Role, User
from app.services.access import PERMISSIONS, has_permission


def current_actor() -> User:
    """The signed-in user itself, not Flask-Login's proxy of it, for services that take the
    acting user (comparisons, isinstance and SQLAlchemy need the real object)."""
    return current_user._get_current_object()  # noqa: SLF001 — Werkzeug's documented unwrap


def public(view):
    """Mark a view as open to everyone (the route audit looks for a declared rule)."""
    view.access_rule = "public"
    return view


def _unauthenticated():
    """API callers get 401; people are sent to the sign-in page."""
    if wants_json():
        abort(401, gettext("The access token is missing, invalid or expired."))
    return login_manager.unauthorized()


def login_required(view):
    """Any signed-in, active user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _unauthenticated()
        return view(*args, **kwargs)

    wrapped.access_rule = "login"
    return wrapped


def roles_required(*roles: Role):
    """Signed-in users with one of `roles` (admins always pass)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return _unauthenticated()
            if current_user.role is not Role.ADMIN and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = "roles:" + ",".join(r.value for r in roles)
        return wrapped

    return decorator


def permission_required(*permissions: str):
    """Admins, and helpers granted any one of `permissions`."""
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if not permissions or unknown:
        raise ValueError(f"unknown permission {unknown!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return _unauthenticated()
            if not any(has_permission(current_user, p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = "permission:" + "|".join(permissions)
        return wrapped

    return decorator
