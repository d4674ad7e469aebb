"""Moderating reviews (reviews.moderate): the list by doctor and visibility, hide, restore."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.admin import bp, form_error
from app.admin.forms import ModerationForm, ReviewFilterForm
from app.rbac import permission_required
from app.services.directory import list_doctors
from app.services.errors import DomainError
from app.services.reviews import listing, reviews

ID = "int(max=2147483647)"


@bp.route("/reviews")
@permission_required(reviews.MODERATE)
def reviews_list():
    form = ReviewFilterForm(request.args)
    form.doctor.choices = [SelectChoice("", gettext("Any doctor"))] + [
        SelectChoice(str(d.id), d.name) for d in list_doctors()
    ]
    results, status = None, 200
    if form.validate():
        try:
            results = listing.moderation_list(
                actor_id=current_user.id,
                doctor_id=int(form.doctor.data) if form.doctor.data else None,
                visibility=form.visibility.data or "all",
                page=form.page.data or 1,
            )
        except DomainError as exc:
            form_error(form, exc)
            status = exc.status_code
    else:
        status = 422
    return render_template(
        "admin/reviews.html",
        form=form,
        results=results,
        author=listing.author_name,
        moderation_form=ModerationForm(formdata=None),
        args={k: v for k, v in request.args.items() if k != "page" and v},
    ), status


def _moderate(review_id: int, restore: bool):
    back = url_for("admin.reviews_list", **request.args.to_dict())
    form = ModerationForm()
    if not form.validate():
        flash("; ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(back)
    action = reviews.restore_review if restore else reviews.hide_review
    try:
        action(
            review_id=review_id,
            actor_id=current_user.id,
            reason=form.reason.data or "",
            now=datetime.now(UTC),
        )
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        if restore:
            message = gettext(
                "Review %(review_id)s restored: it counts in the rating again; its author is told.",
                review_id=review_id,
            )
        else:
            message = gettext(
                "Review %(review_id)s hidden; its author is told.", review_id=review_id
            )
        flash(message, "success")
    return redirect(back)


@bp.route(f"/reviews/<{ID}:review_id>/hide", methods=["POST"])
@permission_required(reviews.MODERATE)
def hide_review(review_id: int):
    return _moderate(review_id, restore=False)


@bp.route(f"/reviews/<{ID}:review_id>/restore", methods=["POST"])
@permission_required(reviews.MODERATE)
def restore_review(review_id: int):
    return _moderate(review_id, restore=True)
