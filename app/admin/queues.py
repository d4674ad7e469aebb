"""Queue health (notifications.view): RQ's queues, workers and cron schedulers, and the
failed jobs with retry and delete."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.rbac import permission_required
from app.services import queue_health
from app.services.errors import DomainError


@bp.route("/queues")
@permission_required("notifications.view")
def queues():
    health = queue_health.read()
    return render_template("admin/queues.html", health=health, Mode=queue_health.Mode)


@bp.route(
    "/queues/<string(maxlength=20):queue>/failed/<string(maxlength=128):job_id>/retry",
    methods=["POST"],
    defaults={"delete": False},
)
@bp.route(
    "/queues/<string(maxlength=20):queue>/failed/<string(maxlength=128):job_id>/delete",
    methods=["POST"],
    defaults={"delete": True},
)
@permission_required("notifications.view")
def failed_job(queue: str, job_id: str, delete: bool):
    action = queue_health.delete_failed_job if delete else queue_health.retry_failed_job
    try:
        action(queue, job_id, actor_id=current_user.id)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(
            f"Job {job_id} was deleted." if delete else f"Job {job_id} is back on {queue}.",
            "success",
        )
    return redirect(url_for("admin.queues"))
