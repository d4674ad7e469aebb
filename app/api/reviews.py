"""Reviews: a patient reviews a completed visit, the doctor replies, moderators hide and
restore; a doctor's visible reviews are public."""

from __future__ import annotations

from flask_login import current_user

from app.api import BEARER, ID, ErrorSchema, bp, request_now
from app.api.review_schemas import (
    HideSchema,
    NewReviewSchema,
    ReplySchema,
    RestoreSchema,
    ReviewChangeSchema,
    ReviewListArgsSchema,
    ReviewPageSchema,
    ReviewSchema,
)
from app.models import Role
from app.rbac import permission_required, public, roles_required
from app.services.reviews import listing, reviews

MODERATE = reviews.MODERATE


@bp.route(f"/appointments/<{ID}:appointment_id>/review", methods=["POST"])
@bp.arguments(NewReviewSchema)
@bp.response(201, ReviewSchema)
@bp.alt_response(403, schema=ErrorSchema, description="Not the caller's visit")
@bp.alt_response(404, schema=ErrorSchema, description="No such appointment")
@bp.alt_response(409, schema=ErrorSchema, description="review_exists: the visit has one")
@bp.alt_response(
    422, schema=ErrorSchema, description="appointment_not_completed, or invalid rating/comment"
)
@bp.doc(**BEARER)
@roles_required(Role.PATIENT)
def write_review(body, appointment_id: int):
    """Review a completed visit of the caller's, once: a rating 1-5 and an optional
    comment (plain text)."""
    return reviews.write_review(
        appointment_id=appointment_id, patient_id=current_user.id, now=request_now(), **body
    )


@bp.route(f"/reviews/<{ID}:review_id>", methods=["PATCH"])
@bp.arguments(ReviewChangeSchema)
@bp.response(200, ReviewSchema)
@bp.alt_response(403, schema=ErrorSchema, description="Not the caller's review")
@bp.alt_response(404, schema=ErrorSchema, description="No such review")
@bp.alt_response(
    409, schema=ErrorSchema, description="edit_window_closed: 14 days passed, or it is hidden"
)
@bp.doc(**BEARER)
@roles_required(Role.PATIENT)
def edit_review(body, review_id: int):
    """Change the rating and/or the comment (null clears it) within 14 days."""
    return reviews.edit_review(
        review_id=review_id, patient_id=current_user.id, now=request_now(), **body
    )


@bp.route(f"/reviews/<{ID}:review_id>/reply", methods=["POST"])
@bp.arguments(ReplySchema)
@bp.response(201, ReviewSchema)
@bp.alt_response(403, schema=ErrorSchema, description="Not the doctor reviewed")
@bp.alt_response(404, schema=ErrorSchema, description="No such review")
@bp.alt_response(409, schema=ErrorSchema, description="reply_exists: change it with PATCH")
@bp.doc(**BEARER)
@roles_required(Role.DOCTOR)
def reply(body, review_id: int):
    """The doctor replies to a review of theirs, once."""
    return reviews.reply_to_review(
        review_id=review_id, doctor_user_id=current_user.id, now=request_now(), **body
    )


@bp.route(f"/reviews/<{ID}:review_id>/reply", methods=["PATCH"])
@bp.arguments(ReplySchema)
@bp.response(200, ReviewSchema)
@bp.alt_response(403, schema=ErrorSchema, description="Not the doctor reviewed")
@bp.alt_response(404, schema=ErrorSchema, description="No such review")
@bp.alt_response(409, schema=ErrorSchema, description="no_reply: reply first")
@bp.doc(**BEARER)
@roles_required(Role.DOCTOR)
def edit_reply(body, review_id: int):
    """The doctor changes their reply."""
    return reviews.edit_reply(
        review_id=review_id, doctor_user_id=current_user.id, now=request_now(), **body
    )


@bp.route(f"/reviews/<{ID}:review_id>/hide", methods=["POST"])
@bp.arguments(HideSchema)
@bp.response(200, ReviewSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such review")
@bp.alt_response(409, schema=ErrorSchema, description="Hidden already")
@bp.doc(**BEARER)
@permission_required(MODERATE)
def hide_review(body, review_id: int):
    """Hide a review from the listings and the rating, with the reason (the author is
    told; audited)."""
    return reviews.hide_review(
        review_id=review_id, actor_id=current_user.id, now=request_now(), **body
    )


@bp.route(f"/reviews/<{ID}:review_id>/restore", methods=["POST"])
@bp.arguments(RestoreSchema, required=False)
@bp.response(200, ReviewSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such review")
@bp.alt_response(409, schema=ErrorSchema, description="Not hidden")
@bp.doc(**BEARER)
@permission_required(MODERATE)
def restore_review(body, review_id: int):
    """Show a hidden review again (the author is told; audited)."""
    return reviews.restore_review(
        review_id=review_id, actor_id=current_user.id, now=request_now(), reason=body.get("reason")
    )


@bp.route(f"/doctors/<{ID}:doctor_id>/reviews")
@bp.arguments(ReviewListArgsSchema, location="query")
@bp.response(200, ReviewPageSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such doctor")
@public
def doctor_reviews(args, doctor_id: int):
    """A doctor's visible reviews with the doctor's replies, newest first."""
    page = listing.visible_reviews(doctor_id=doctor_id, **args)
    return {
        "items": page.items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }
