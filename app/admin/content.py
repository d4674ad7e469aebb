"""Admin pages for the help and policy pages (content.manage): the list, new, edit (with the
rendered text as the public will see it)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from app.admin import bp, form_error
from app.admin.forms import ContentPageForm
from app.rbac import permission_required
from app.services import content
from app.services.errors import DomainError

ID = "int(max=2147483647)"


@bp.route("/pages")
@permission_required(content.PERMISSION)
def content_pages():
    return render_template(
        "admin/content_pages.html", pages=content.list_pages(actor_id=current_user.id)
    )


@bp.route("/pages/new", methods=["GET", "POST"], defaults={"page_id": None})
@bp.route(f"/pages/<{ID}:page_id>/edit", methods=["GET", "POST"])
@permission_required(content.PERMISSION)
def edit_content_page(page_id: int | None):
    page = content.get_page(page_id, actor_id=current_user.id) if page_id is not None else None
    form = ContentPageForm(obj=page)
    if form.validate_on_submit():
        data = content.PageInput(
            slug=form.slug.data,
            title=form.title.data,
            body=form.body.data or "",
            kind=form.kind.data,
            published=form.published.data,
            position=form.position.data or 0,
        )
        now = datetime.now(UTC)
        try:
            if page is None:
                saved = content.create_page(data, actor_id=current_user.id, now=now)
            else:
                saved = content.update_page(page.id, data, actor_id=current_user.id, now=now)
        except DomainError as exc:
            form_error(form, exc)
            return _form(form, page), exc.status_code
        if saved.published:
            message = gettext("“%(title)s” published.", title=saved.title)
        else:
            message = gettext("“%(title)s” saved as a draft (not public).", title=saved.title)
        flash(message, "success")
        return redirect(url_for("admin.edit_content_page", page_id=saved.id))
    return _form(form, page), 422 if form.errors else 200


def _form(form, page):
    return render_template(
        "admin/content_page_form.html",
        form=form,
        page=page,
        preview=content.render_markdown(page.body) if page is not None else None,
    )
