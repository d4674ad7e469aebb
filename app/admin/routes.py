from flask import redirect, render_template, url_for
from flask_login import current_user

from app.admin import admin_sections, bp
from app.models import Role
from app.rbac import roles_required
from app.services.access import permission_label


@bp.route("/")
@roles_required(Role.HELPER)
def index():
    sections = admin_sections()
    if len(sections) == 1:
        return redirect(url_for(sections[0][1]))
    # Permissions that open no admin page (conversations.audit opens threads) are named, so a
    # helper holding only those sees what they have rather than an unexplained empty page.
    held = sorted(current_user.permission_names) if current_user.role is Role.HELPER else []
    return render_template(
        "admin/index.html", sections=sections, held=[str(permission_label(p)) for p in held]
    )
