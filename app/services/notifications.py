"""Notifications: the one place that decides to tell a user something.

For now it records the intent (a Notification row, once per dedupe key) in the caller's
transaction; sending by email, SMS and in-app comes with the workers.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Notification, NotificationChannel


def record(
    *,
    user_id: int,
    kind: str,
    dedupe_key: str,
    data: dict | None = None,
    channel: NotificationChannel = NotificationChannel.IN_APP,
) -> Notification | None:
    """Add a pending notification unless one with this dedupe key exists. Does not commit."""
    notification = Notification(
        user_id=user_id, kind=kind, dedupe_key=dedupe_key, data=data or {}, channel=channel
    )
    try:
        with db.session.begin_nested():  # the unique dedupe key decides, even under races
            db.session.add(notification)
    except IntegrityError:
        return None
    return notification
