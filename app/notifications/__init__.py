"""Notifications for people: the in-app inbox, the bell in the header, the settings grid
and the one-click unsubscribe page of emails."""

from __future__ import annotations

from flask import Blueprint, g
from flask_login import current_user

from app.services.notifications import inbox

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def unread_notifications() -> int:
    """The signed-in user's unread count for the bell: one COUNT per request, and only when a
    page shows the bell (e-mails and error pages rendered without it query nothing)."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = inbox.unread_count(current_user.id)
    return g.unread_notifications


@bp.app_context_processor
def _bell():
    return {"unread_notifications": unread_notifications}


from app.notifications import routes  # noqa: E402,F401
