"""Writing, editing and moderating reviews, and the doctor's reply: one use case each.

Only the patient of a completed visit reviews it, once (the unique key on the appointment
decides a race; the appointment's row lock makes the loser wait and see the winner's
review). The author may change it for EDIT_WINDOW. The doctor replies once and may change
the reply. Staff with reviews.moderate hide or restore a review with a reason: audited, the
author told, the doctor's rating totals updated in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext, lazy_gettext
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Review
from app.models.reviews import MAX_COMMENT, MAX_REASON
from app.services import access, audit
from app.services.errors import (
    AppointmentNotFound,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from app.services.l10n import format_number
from app.services.notifications.outbox import notify
from app.services.reviews.rating import add_to_totals
from app.services.transaction import use_case

EDIT_WINDOW = timedelta(days=14)
MODERATE = "reviews.moderate"


class ReviewNotFound(NotFound):
    code = "review_not_found"
    default_message = lazy_gettext("There is no such review.")


class NotReviewable(InvalidInput):
    code = "appointment_not_completed"
    default_message = lazy_gettext("Only a completed visit can be reviewed.")


class ReviewExists(Conflict):
    code = "review_exists"
    default_message = lazy_gettext("This visit has a review already: change it instead.")


class EditWindowClosed(Conflict):
    code = "edit_window_closed"
    default_message = lazy_gettext("A review can be changed for 14 days after it was written.")


class ReplyExists(Conflict):
    code = "reply_exists"
    default_message = lazy_gettext("This review has a reply already: change it instead.")


class NoReply(Conflict):
    code = "no_reply"
    default_message = lazy_gettext("This review has no reply to change yet.")


class ModerationConflict(Conflict):
    code = "moderation_conflict"


@dataclass(frozen=True)
class Unset:
    """A PATCH field that was not sent (None means "clear it")."""


UNSET = Unset()


def editable_until(review: Review) -> datetime:
    return review.created_at + EDIT_WINDOW


def can_edit(review: Review, user_id: int, now: datetime) -> bool:
    """The author may change a visible review within EDIT_WINDOW of writing it."""
    return review.patient_id == user_id and review.is_visible and now < editable_until(review)


def _rating(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput(gettext("The rating is a whole number from 1 to 5."), field="rating")
    return value


def _text(value: str | None, field: str) -> str | None:
    """Stored as written (it is only ever shown as text); blank is no text."""
    if value is None or not value.strip():
        return None
    if "\x00" in value:
        raise InvalidInput(gettext("Text cannot contain NUL characters."), field=field)
    if len(value) > MAX_COMMENT:
        raise InvalidInput(
            gettext("At most %(limit)s characters.", limit=format_number(MAX_COMMENT)), field=field
        )
    return value


def _reason(value: str | None) -> str:
    reason = (value or "").strip()
    if not reason:
        raise InvalidInput(gettext("Give the reason."), field="reason")
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise InvalidInput(
            gettext("The reason is at most %(MAX_REASON)s characters.", MAX_REASON=MAX_REASON),
            field="reason",
        )
    return reason


def _locked_review(review_id: int) -> Review:
    review = db.session.scalar(select(Review).where(Review.id == review_id).with_for_update())
    if review is None:
        raise ReviewNotFound()
    return review


@use_case
def write_review(
    *, appointment_id: int, patient_id: int, rating: int, comment: str | None, now: datetime
) -> Review:
    """The patient reviews their completed visit. Raises AppointmentNotFound, Forbidden (not
    their visit), NotReviewable (not completed), ReviewExists, InvalidInput."""
    access.load_actor(patient_id)
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    )
    if appointment is None:
        raise AppointmentNotFound()
    if appointment.patient_id != patient_id:
        raise Forbidden(gettext("Only the patient of this visit can review it."))
    if appointment.status is not AppointmentStatus.COMPLETED:
        raise NotReviewable()
    stars, text = _rating(rating), _text(comment, "comment")
    if db.session.scalar(select(exists().where(Review.appointment_id == appointment.id))):
        raise ReviewExists()
    review = Review(
        appointment_id=appointment.id,
        patient_id=patient_id,
        doctor_id=appointment.doctor_id,
        rating=stars,
        comment=text,
        created_at=now,
    )
    db.session.add(review)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise ReviewExists() from exc
    add_to_totals(appointment.doctor_id, count=1, total=stars)
    audit.record(
        "review.written",
        actor_id=patient_id,
        target_type="review",
        target_id=review.id,
        data={"appointment_id": appointment.id, "rating": stars},
    )
    return review


@use_case
def edit_review(
    *,
    review_id: int,
    patient_id: int,
    rating: int | Unset = UNSET,
    comment: str | None | Unset = UNSET,
    now: datetime,
) -> Review:
    """The author changes the rating and/or the comment within EDIT_WINDOW. Raises
    ReviewNotFound, Forbidden (not theirs), EditWindowClosed (too late, or hidden),
    InvalidInput."""
    access.load_actor(patient_id)
    review = _locked_review(review_id)
    if review.patient_id != patient_id:
        raise Forbidden(gettext("Only its author can change a review."))
    if not review.is_visible:
        raise EditWindowClosed(gettext("A hidden review cannot be changed."))
    if now >= editable_until(review):
        raise EditWindowClosed()
    if not isinstance(rating, Unset):
        stars = _rating(rating)
        add_to_totals(review.doctor_id, count=0, total=stars - review.rating)
        review.rating = stars
    if not isinstance(comment, Unset):
        review.comment = _text(comment, "comment")
    review.edited_at = now
    audit.record(
        "review.edited",
        actor_id=patient_id,
        target_type="review",
        target_id=review.id,
        data={"rating": review.rating},
    )
    return review


def own_review(*, review_id: int, patient_id: int) -> Review:
    """The author's own review. Raises ReviewNotFound (also for anyone else's)."""
    review = db.session.get(Review, review_id)
    if review is None or review.patient_id != patient_id:
        raise ReviewNotFound()
    return review


def _doctor_review(review_id: int, actor_id: int) -> Review:
    actor = access.load_actor(actor_id)
    review = _locked_review(review_id)
    if not access.is_the_doctor(actor, review.doctor):
        raise Forbidden(gettext("Only the doctor reviewed can reply."))
    return review


@use_case
def reply_to_review(*, review_id: int, doctor_user_id: int, body: str, now: datetime) -> Review:
    """The doctor replies, once. Raises ReviewNotFound, Forbidden, ReplyExists, InvalidInput."""
    review = _doctor_review(review_id, doctor_user_id)
    if review.reply is not None:
        raise ReplyExists()
    text = _text(body, "body")
    if text is None:
        raise InvalidInput(gettext("Write the reply."), field="body")
    review.reply, review.replied_at = text, now
    audit.record(
        "review.replied", actor_id=doctor_user_id, target_type="review", target_id=review.id
    )
    return review


@use_case
def edit_reply(*, review_id: int, doctor_user_id: int, body: str, now: datetime) -> Review:
    """The doctor changes their reply. Raises ReviewNotFound, Forbidden, NoReply,
    InvalidInput."""
    review = _doctor_review(review_id, doctor_user_id)
    if review.reply is None:
        raise NoReply()
    text = _text(body, "body")
    if text is None:
        raise InvalidInput(gettext("Write the reply."), field="body")
    review.reply, review.reply_edited_at = text, now
    audit.record(
        "review.reply_edited", actor_id=doctor_user_id, target_type="review", target_id=review.id
    )
    return review


def _moderated(review_id: int, actor_id: int) -> Review:
    if not access.has_permission(access.load_actor(actor_id), MODERATE):
        raise Forbidden(gettext("Moderating reviews needs the reviews.moderate permission."))
    return _locked_review(review_id)


@use_case
def hide_review(*, review_id: int, actor_id: int, reason: str, now: datetime) -> Review:
    """Take a review out of the listings and the doctor's rating, saying why; the author is
    told. Raises Forbidden, ReviewNotFound, ModerationConflict (hidden already),
    InvalidInput."""
    review = _moderated(review_id, actor_id)
    why = _reason(reason)
    if not review.is_visible:
        raise ModerationConflict(gettext("This review is hidden already."))
    review.hidden_at, review.hidden_reason, review.hidden_by_id = now, why, actor_id
    add_to_totals(review.doctor_id, count=-1, total=-review.rating)
    _moderation_event(review, "hidden", actor_id, why, now)
    return review


@use_case
def restore_review(
    *, review_id: int, actor_id: int, reason: str | None = None, now: datetime
) -> Review:
    """Show a hidden review again (back in the rating), with the reason when given; the
    author is told. Raises Forbidden, ReviewNotFound, ModerationConflict (not hidden),
    InvalidInput."""
    review = _moderated(review_id, actor_id)
    why = _reason(reason) if reason and reason.strip() else None
    if review.is_visible:
        raise ModerationConflict(gettext("This review is not hidden."))
    review.hidden_at = review.hidden_reason = review.hidden_by_id = None
    add_to_totals(review.doctor_id, count=1, total=review.rating)
    _moderation_event(review, "restored", actor_id, why, now)
    return review


def _moderation_event(
    review: Review, event: str, actor_id: int, reason: str | None, now: datetime
) -> None:
    audit.record(
        f"review.{event}",
        actor_id=actor_id,
        target_type="review",
        target_id=review.id,
        data={"reason": reason, "doctor_id": review.doctor_id, "rating": review.rating},
    )
    notify(
        review.patient,
        f"review.{event}",
        key=f"review:{review.id}:{event}:{now.isoformat()}",
        data={"review_id": review.id, "reason": reason},
    )


def request_review(appointment: Appointment) -> None:
    """Ask the patient of a visit just completed for a review (in the caller's transaction;
    the notification is skipped if they review before it goes)."""
    notify(
        appointment.patient,
        "review.request",
        key=f"appointment:{appointment.id}:review_request",
        data={"appointment_id": appointment.id},
    )
