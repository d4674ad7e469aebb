"""The caller's in-app notifications: the list with the unread count, reading one or all."""

from __future__ import annotations

from flask_login import current_user

from app.api import BEARER, ID, ErrorSchema, bp, request_now
from app.api.notification_schemas import (
    NotificationListArgsSchema,
    NotificationPageSchema,
    NotificationSchema,
    ReadAllSchema,
)
from app.rbac import login_required
from app.services.notifications import inbox

NOT_YOURS = "No such notification (or not one of yours)"


@bp.route("/notifications")
@bp.arguments(NotificationListArgsSchema, location="query")
@bp.response(200, NotificationPageSchema)
@bp.alt_response(422, schema=ErrorSchema, description="page below 1 or per_page outside 1..50")
@bp.doc(**BEARER)
@login_required
def list_notifications(args):
    """The caller's in-app notifications, newest first, with how many are unread."""
    return inbox.inbox(user_id=current_user.id, **args)


@bp.route(f"/notifications/<{ID}:notification_id>/read", methods=["POST"])
@bp.response(200, NotificationSchema)
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.doc(**BEARER)
@login_required
def read_notification(notification_id: int):
    """Mark one notification read (reading it again keeps the first time)."""
    return inbox.mark_read(
        user_id=current_user.id, notification_id=notification_id, now=request_now()
    )


@bp.route("/notifications/read-all", methods=["POST"])
@bp.response(200, ReadAllSchema)
@bp.doc(**BEARER)
@login_required
def read_all_notifications():
    """Mark every unread notification of the caller read."""
    marked = inbox.mark_all_read(user_id=current_user.id, now=request_now())
    return {"marked": marked, "unread": 0}
