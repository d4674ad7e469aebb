from flask import redirect, render_template, url_for

from app.admin import admin_sections, bp
from app.models import Role
from app.rbac import roles_required


@bp.route("/")
@roles_required(Role.HELPER)
def index():
    sections = admin_sections()
    if len(sections) == 1:
        return redirect(url_for(sections[0][1]))
    return render_template("admin/index.html", sections=sections)
