"""Schemas of reviews and of the doctors' ratings."""

from __future__ import annotations

import marshmallow as ma

from app.api.fields import PageNumber, Text
from app.models.reviews import MAX_COMMENT, MAX_REASON
from app.services.reviews import listing, reviews


class PublicReviewSchema(ma.Schema):
    id = ma.fields.Integer()
    rating = ma.fields.Integer(metadata={"description": "1 to 5"})
    comment = ma.fields.String(
        allow_none=True, metadata={"description": "Plain text as written (never HTML)"}
    )
    reply = ma.fields.String(allow_none=True, metadata={"description": "The doctor's reply"})
    replied_at = ma.fields.DateTime(allow_none=True)
    author = ma.fields.Function(
        listing.author_name, metadata={"type": "string", "example": "Maria K."}
    )
    created_at = ma.fields.DateTime()
    edited_at = ma.fields.DateTime(allow_none=True)


class ReviewSchema(PublicReviewSchema):
    """A review as its author, its doctor and moderators see it."""

    appointment_id = ma.fields.Integer()
    doctor_id = ma.fields.Integer()
    hidden = ma.fields.Function(lambda review: not review.is_visible, metadata={"type": "boolean"})
    hidden_reason = ma.fields.String(allow_none=True)
    editable_until = ma.fields.Function(
        lambda review: reviews.editable_until(review).isoformat(),
        metadata={"type": "string", "format": "date-time"},
    )


class ReviewPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PublicReviewSchema))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
    pages = ma.fields.Integer()


class ReviewListArgsSchema(ma.Schema):
    page = PageNumber(1)
    per_page = PageNumber(10, listing.MAX_PER_PAGE)


class NewReviewSchema(ma.Schema):
    rating = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 5))
    comment = Text(
        allow_none=True,
        load_default=None,
        validate=ma.validate.Length(max=MAX_COMMENT),
        metadata={"description": f"Optional, at most {MAX_COMMENT} characters, plain text"},
    )


class ReviewChangeSchema(ma.Schema):
    rating = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 5))
    comment = Text(allow_none=True, validate=ma.validate.Length(max=MAX_COMMENT))

    @ma.validates_schema
    def _something_to_change(self, data: dict, **_) -> None:
        if not data:  # also a PATCH without a body: a 422, not a silent no-op
            raise ma.ValidationError("Send the new rating and/or comment.")


class ReplySchema(ma.Schema):
    body = Text(required=True, validate=ma.validate.Length(min=1, max=MAX_COMMENT))


class HideSchema(ma.Schema):
    reason = Text(required=True, validate=ma.validate.Length(min=1, max=MAX_REASON))


class RestoreSchema(ma.Schema):
    reason = Text(allow_none=True, load_default=None, validate=ma.validate.Length(max=MAX_REASON))
