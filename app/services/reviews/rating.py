"""A doctor's rating: the visible reviews' count and sum, kept on the doctor's row, and the
Bayesian average that search sorts by.

The totals change in the same transaction as the review, by one relative UPDATE
(`rating_count = rating_count + 1`): the database adds concurrent changes up one after the
other on the row's lock, so no review is lost to a read-modify-write race, and a search never
aggregates reviews.

The sort score is a Bayesian average with a fixed prior: as if every doctor had PRIOR_WEIGHT
more reviews of PRIOR_MEAN stars. One 5-star review scores (10 x 3.5 + 5) / 11 = 3.64; two
hundred of 4.8 score (35 + 960) / 210 = 4.74, so the long record ranks first. A fixed prior
(not the site's mean) keeps the score a function of the doctor's own row, so it needs no
other query, and 3.5 (below what good doctors get) makes a new doctor earn their place: a
doctor with no reviews scores 3.5, above one whose many reviews average less.
"""

from __future__ import annotations

from sqlalchemy import update

from app.extensions import db
from app.models import Doctor

PRIOR_MEAN = 3.5
PRIOR_WEIGHT = 10


def bayesian_score():
    """SQL: the doctor's Bayesian average (see the module's docstring)."""
    return (Doctor.rating_sum + PRIOR_MEAN * PRIOR_WEIGHT) / (Doctor.rating_count + PRIOR_WEIGHT)


def bayesian_average(count: int, total: int) -> float:
    """The same score in Python (for tests and pages)."""
    return (total + PRIOR_MEAN * PRIOR_WEIGHT) / (count + PRIOR_WEIGHT)


def add_to_totals(doctor_id: int, *, count: int, total: int) -> None:
    """Add `count` reviews and `total` stars (negative to take away) to the doctor's totals,
    in the caller's transaction (the row stays locked until it ends)."""
    db.session.execute(
        update(Doctor)
        .where(Doctor.id == doctor_id)
        .values(rating_count=Doctor.rating_count + count, rating_sum=Doctor.rating_sum + total)
        .execution_options(synchronize_session=False)
    )
    loaded = db.session.identity_map.get(db.session.identity_key(Doctor, doctor_id))
    if loaded is not None:
        db.session.expire(loaded, ["rating_count", "rating_sum"])
