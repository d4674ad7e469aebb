"""The doctor's reviews: every review of theirs (hidden ones marked), and their replies."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, render_template, request
from flask_babel import gettext
from flask_login import current_user

from app.doctor import bp
from app.doctor.context import back, scoped_doctor
from app.doctor.forms import ReplyForm
from app.models import Role
from app.rbac import roles_required
from app.services.errors import DomainError
from app.services.reviews import listing, reviews


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        abort(400, gettext("page is a number from 1 to 10000."))
    return int(raw)


@bp.route("/reviews")
@roles_required(Role.DOCTOR)
@scoped_doctor
def reviews_page(doctor):
    return render_template(
        "doctor/reviews.html",
        doctor=doctor,
        results=listing.doctor_reviews(doctor=doctor, page=_page_arg()),
        author=listing.author_name,
        reply_form=ReplyForm,
    )


@bp.route("/reviews/<int(max=2147483647):review_id>/reply", methods=["POST"])
@roles_required(Role.DOCTOR)
def reply(review_id: int):
    """Reply to a review, or change the reply (one per review)."""
    form = ReplyForm()
    if not form.validate():
        if "csrf_token" in form.errors:
            abort(400, gettext("The form has expired: please try again."))
        for error in form.body.errors:
            flash(error, "error")
        return back("doctor.reviews_page", "page")
    change = request.args.get("change") == "1"
    use_case = reviews.edit_reply if change else reviews.reply_to_review
    try:
        use_case(
            review_id=review_id,
            doctor_user_id=current_user.id,
            body=form.body.data,
            now=datetime.now(UTC),
        )
    except DomainError as exc:
        if exc.status_code in (403, 404):
            abort(404)
        flash(exc.message, "error")
    else:
        flash(
            gettext("Your reply is changed.") if change else gettext("Your reply is published."),
            "success",
        )
    return back("doctor.reviews_page", "page")
