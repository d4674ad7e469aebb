"""Reading reviews: a doctor's public list, the doctor's own list, the moderators' list."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, raiseload

from app.extensions import db
from app.models import Doctor, Review
from app.services import access
from app.services.errors import Forbidden, InvalidInput
from app.services.paging import Paged
from app.services.reviews.reviews import MODERATE, ReviewNotFound
from app.services.scheduling.appointments import public_doctor

MAX_PER_PAGE = 50
VISIBILITIES = ("all", "visible", "hidden")


@dataclass
class ReviewPage(Paged):
    items: list[Review]
    total: int
    page: int
    per_page: int


def _page(stmt, page: int, per_page: int) -> ReviewPage:
    if page < 1 or page > 10_000:
        raise InvalidInput(gettext("page is between 1 and 10000."), field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(
            gettext("per_page is between 1 and %(MAX_PER_PAGE)s.", MAX_PER_PAGE=MAX_PER_PAGE),
            field="per_page",
        )
    # The page and the total in one statement (a window count over the matches).
    rows = db.session.execute(
        stmt.add_columns(func.count().over())
        .order_by(Review.created_at.desc(), Review.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(joinedload(Review.patient))
    ).all()
    if rows:
        total = rows[0][1]
    elif page == 1:
        total = 0
    else:  # past the last page: count on its own
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return ReviewPage([review for review, _ in rows], total, page, per_page)


def visible_reviews(*, doctor_id: int, page: int = 1, per_page: int = 10) -> ReviewPage:
    """A listed doctor's visible reviews, newest first (with replies). Raises
    DoctorNotFound."""
    public_doctor(doctor_id)
    stmt = (
        select(Review)
        .where(Review.doctor_id == doctor_id, Review.hidden_at.is_(None))
        .options(raiseload("*", sql_only=True))  # the doctor's public page: a hot path
    )
    return _page(stmt, page, per_page)


def doctor_reviews(*, doctor: Doctor, page: int = 1, per_page: int = 20) -> ReviewPage:
    """Every review of a doctor, hidden ones too (for the doctor's own page; the caller has
    loaded the doctor through access.managed_doctor)."""
    return _page(select(Review).where(Review.doctor_id == doctor.id), page, per_page)


def moderation_list(
    *,
    actor_id: int,
    doctor_id: int | None = None,
    visibility: str = "all",
    page: int = 1,
    per_page: int = 50,
) -> ReviewPage:
    """Reviews for moderators, newest first, by doctor and visibility. Raises Forbidden,
    InvalidInput."""
    if not access.has_permission(access.load_actor(actor_id), MODERATE):
        raise Forbidden()
    if visibility not in VISIBILITIES:
        raise InvalidInput(f"visibility is one of {', '.join(VISIBILITIES)}.", field="visibility")
    stmt = select(Review).options(joinedload(Review.doctor).joinedload(Doctor.user))
    if doctor_id is not None:
        stmt = stmt.where(Review.doctor_id == doctor_id)
    if visibility == "visible":
        stmt = stmt.where(Review.hidden_at.is_(None))
    elif visibility == "hidden":
        stmt = stmt.where(Review.hidden_at.is_not(None))
    return _page(stmt, page, per_page)


def review_of_appointment(appointment_id: int) -> Review | None:
    return db.session.scalar(select(Review).where(Review.appointment_id == appointment_id))


def get_review(*, review_id: int, viewer_id: int) -> Review:
    """A review its viewer may see in full: visible ones to anyone signed in; hidden ones to
    the author, the doctor and moderators. Raises ReviewNotFound."""
    review = db.session.get(Review, review_id)
    if review is None:
        raise ReviewNotFound()
    if not review.is_visible:
        viewer = access.load_actor(viewer_id)
        allowed = (
            review.patient_id == viewer.id
            or access.is_the_doctor(viewer, review.doctor)
            or access.has_permission(viewer, MODERATE)
        )
        if not allowed:
            raise ReviewNotFound()
    return review


def author_name(review: Review) -> str:
    """How a review is signed in public: the first name and the initial of the last."""
    parts = review.patient.name.split()
    if not parts:
        return "A patient"
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."
