"""The notification log (notifications.view): every message the outbox holds, and a retry
for the failed ones."""

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.admin import bp, form_error
from app.admin.forms import NotificationLogForm
from app.models import NotificationChannel, NotificationStatus
from app.rbac import permission_required
from app.services.errors import DomainError
from app.services.notifications import admin_log

RETRY_MESSAGES = {
    admin_log.RetryOutcome.SENT: (lazy_gettext("Notification %(id)s was sent again."), "success"),
    admin_log.RetryOutcome.QUEUED: (
        lazy_gettext("Notification %(id)s is back on the queue."),
        "success",
    ),
    admin_log.RetryOutcome.PENDING: (
        lazy_gettext(
            "Notification %(id)s is pending again but was not delivered yet; the outbox keeps "
            "trying (see its last error)."
        ),
        "error",
    ),
}


@bp.route("/notifications")
@permission_required("notifications.view")
def notifications():
    form = NotificationLogForm(request.args)
    form.kind.choices = [SelectChoice("", gettext("Any kind"))] + [
        SelectChoice(name, name) for name in admin_log.kind_names()
    ]
    if not form.validate():
        return _page(form, None, 422)
    try:
        results = admin_log.search(
            admin_log.LogQuery(
                user=form.user.data,
                kind=form.kind.data or None,
                channel=NotificationChannel(form.channel.data) if form.channel.data else None,
                status=NotificationStatus(form.status.data) if form.status.data else None,
                since=form.since.data,
                until=form.until.data,
            ),
            page=form.page.data or 1,
        )
    except DomainError as exc:
        form_error(form, exc)
        return _page(form, None, exc.status_code)
    return _page(form, results)


@bp.route("/notifications/<int(max=2147483647):notification_id>/retry", methods=["POST"])
@permission_required("notifications.view")
def retry_notification(notification_id: int):
    # The query string carries the filters the list was showing: back to the same view.
    back = url_for("admin.notifications", **request.args.to_dict())
    try:
        outcome = admin_log.retry(notification_id, actor_id=current_user.id, now=datetime.now(UTC))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    message, category = RETRY_MESSAGES[outcome]
    flash(str(message) % {"id": notification_id}, category)
    return redirect(back)


def _page(form, results, status: int = 200):
    return render_template(
        "admin/notifications.html",
        form=form,
        results=results,
        destination=admin_log.shown_destination,
    ), status
