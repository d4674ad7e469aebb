"""Notifications for people: the in-app inbox, the bell in the header, the settings grid
and the one-click unsubscribe page of emails."""

from __future__ import annotations

import logging

from flask import Blueprint, g
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.services.notifications import inbox

log = logging.getLogger(__name__)
bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def unread_notifications() -> int:
    """The signed-in user's unread count for the bell: one COUNT per request, and only when a
    page shows the bell (e-mails and error pages rendered without it query nothing)."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        try:
            g.unread_notifications = inbox.unread_count(current_user.id)
        except SQLAlchemyError:  # an error page after a failed transaction: no badge, no 2nd error
            log.warning("unread count unavailable", exc_info=True)
            g.unread_notifications = 0
    return g.unread_notifications


@bp.app_context_processor
def _bell():
    return {"unread_notifications": unread_notifications}


from app.notifications import routes  # noqa: E402,F401
