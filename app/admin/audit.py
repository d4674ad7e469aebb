"""The audit trail page (admins only)."""

from flask import render_template, request

from app.admin import bp
from app.admin.forms import AuditSearchForm
from app.models import Role
from app.rbac import roles_required
from app.services import audit as audit_service


@bp.route("/audit")
@roles_required(Role.ADMIN)
def audit():
    form = AuditSearchForm(request.args)
    if not form.validate():
        return render_template("admin/audit.html", form=form, results=None), 422
    results = audit_service.search(
        audit_service.AuditQuery(
            actor=form.actor.data,
            action=form.action.data,
            target_type=form.target_type.data,
            target_id=form.target_id.data,
            since=form.since.data,
            until=form.until.data,
        ),
        page=form.page.data or 1,
    )
    return render_template("admin/audit.html", form=form, results=results)
