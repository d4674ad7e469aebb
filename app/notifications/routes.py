from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.auth.signin import now
from app.extensions import csrf
from app.notifications import bp
from app.notifications.forms import (
    CHANNEL_LABELS,
    MarkAllReadForm,
    SettingsForm,
    cell_value,
    parse_grid,
)
from app.rbac import login_required, public
from app.services.errors import DomainError
from app.services.notifications import inbox, preferences
from app.services.notifications.kinds import OPTIONAL_CATEGORIES


@bp.get("")
@login_required
def index():
    """The inbox, newest first, unread ones marked."""
    page = inbox.inbox(user_id=current_user.id, page=request.args.get("page", 1, type=int))
    return render_template(
        "notifications/index.html", results=page, mark_all_form=MarkAllReadForm()
    )


@bp.get("/unread-count")
@login_required
def unread_count():
    """The bell's poll (static/js/bell.js); it does not count as activity (app/auth)."""
    return jsonify(unread=inbox.unread_count(current_user.id))


@bp.get("/<int(max=2147483647):notification_id>")
@login_required
def open_notification(notification_id: int):
    """Mark it read and go where it points, on this site only."""
    target = inbox.open_notification(
        user_id=current_user.id, notification_id=notification_id, now=now()
    )
    return redirect(target or url_for("notifications.index"))


@bp.post("/read-all")
@login_required
def read_all():
    if MarkAllReadForm().validate_on_submit():
        inbox.mark_all_read(user_id=current_user.id, now=now())
        flash(gettext("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Which optional notifications arrive on which channel."""
    form = SettingsForm()
    status = 200
    if form.validate_on_submit():
        try:
            preferences.save_settings(current_user.id, parse_grid(request.form.getlist("on")))
        except DomainError as exc:
            flash(exc.message, "error")
            status = 422
        else:
            flash(gettext("Your notification settings are saved."), "success")
            return redirect(url_for("notifications.settings"))
    return render_template(
        "notifications/settings.html",
        form=form,
        grid=preferences.settings_for(current_user.id),
        categories=OPTIONAL_CATEGORIES,
        channels=CHANNEL_LABELS,
        cell_value=cell_value,
    ), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # RFC 8058: mail clients POST `List-Unsubscribe=One-Click`, with no session
def unsubscribe(token: str):
    """GET asks to confirm (link scanners follow GETs); POST turns that category's emails
    off. A bad token is a 404 page."""
    if request.method == "POST":
        _, category = preferences.unsubscribe(token)
        done = True
    else:
        _, category = preferences.read_unsubscribe_token(token)
        done = False
    return render_template(
        "notifications/unsubscribe.html",
        token=token,
        done=done,
        category=OPTIONAL_CATEGORIES[category],
    )
