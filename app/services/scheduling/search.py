"""Finding doctors and their free slots.

Every query here reads free slots through `free_slot_clause`, which repeats the partial unique
index's predicate so that PostgreSQL answers from indexes (ARCHITECTURE.md, known pitfalls).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import Row, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, raiseload

from app.extensions import db
from app.models import (
    Appointment,
    Clinic,
    Doctor,
    DoctorFreeDay,
    DoctorLanguage,
    Slot,
    SlotStatus,
    Specialty,
    User,
    occupies_slot,
)
from app.services import catalogue, like
from app.services.access import listed_doctor_clause
from app.services.errors import InvalidInput
from app.services.languages import check_language
from app.services.localtime import check_day, day_bounds, zone
from app.services.paging import Paged
from app.services.reviews.rating import bayesian_score
from app.services.scheduling.appointments import public_doctor

MAX_PER_PAGE = 50
MAX_RADIUS_KM = 500.0
DEFAULT_RADIUS_KM = 25.0
MAX_LISTING_DAYS = 92
EARTH_RADIUS_KM = 6371.0
# How results are ordered. relevance: nearest first with `near`, then by name. price and
# price_desc: by fee (fees in different currencies are not compared: each currency is a
# group, by its code), then by name. earliest: the next free time first (with available_on,
# that day's first), doctors without one last. rating: the Bayesian average of the visible
# reviews first (services/reviews/rating.py: one 5-star review does not outrank two hundred
# of 4.8), then the number of reviews, then by name.
SORTS = ("relevance", "price", "price_desc", "earliest", "rating")


@dataclass(frozen=True)
class DoctorSearch:
    specialty: str | None = None  # slug
    clinic_id: int | None = None
    city: str | None = None
    q: str | None = None
    available_on: date | None = None  # in each clinic's own zone
    near: tuple[float, float] | None = None  # latitude, longitude
    radius_km: float | None = None
    language: str | None = None  # ISO 639-1 code the doctor speaks
    sort: str = "relevance"  # one of SORTS
    page: int = 1
    per_page: int = 20


@dataclass
class DoctorResult:
    doctor: Doctor
    next_available: datetime | None
    distance_km: float | None


@dataclass
class SearchPage(Paged):
    items: list[DoctorResult]
    total: int
    page: int
    per_page: int


def free_slot_clause(now: datetime):
    """SQL: a Slot is free now (open, in the future, not held by an active appointment)."""
    return and_(
        Slot.status == SlotStatus.OPEN,
        Slot.start_at > now,
        ~exists().where(Appointment.slot_id == Slot.id, occupies_slot(now)),
    )


def free_slots_query(doctor_id: int, now: datetime, start=None, end=None):
    stmt = select(Slot).where(Slot.doctor_id == doctor_id, free_slot_clause(now))
    if start is not None:
        stmt = stmt.where(Slot.start_at >= start)
    if end is not None:
        stmt = stmt.where(Slot.start_at < end)
    return stmt.order_by(Slot.start_at)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


MAX_PAGE = 10_000


def _validate(criteria: DoctorSearch) -> None:
    if not 1 <= criteria.page <= MAX_PAGE:
        raise InvalidInput(
            gettext("page is between 1 and %(MAX_PAGE)s.", MAX_PAGE=MAX_PAGE), field="page"
        )
    if not 1 <= criteria.per_page <= MAX_PER_PAGE:
        raise InvalidInput(
            gettext("per_page is between 1 and %(MAX_PER_PAGE)s.", MAX_PER_PAGE=MAX_PER_PAGE),
            field="per_page",
        )
    if criteria.near is not None:
        lat, lng = criteria.near
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise InvalidInput(gettext("near is LAT,LNG with -90..90 and -180..180."), field="near")
    if criteria.available_on is not None:
        check_day(criteria.available_on, "available_on")
    if criteria.sort not in SORTS:
        raise InvalidInput(f"sort is one of {', '.join(SORTS)}.", field="sort")
    if criteria.language is not None:
        check_language(criteria.language)
    if criteria.radius_km is not None:
        if criteria.near is None:
            raise InvalidInput(gettext("radius_km needs near=LAT,LNG."), field="radius_km")
        if not 0 < criteria.radius_km <= MAX_RADIUS_KM:
            raise InvalidInput(f"radius_km is between 0 and {MAX_RADIUS_KM:g}.", field="radius_km")


def clinic_zones() -> list[str]:
    """The time zones of the clinics (each one once; kept by services/catalogue.py)."""
    return catalogue.clinic_zones()


def _day_probe(day: date, now: datetime, zones):
    """SQL: the doctor has a free slot on `day` in their clinic's zone, when that zone is one
    of `zones`, by probing their slots (one index probe per doctor asked). The day's bounds
    are picked by the clinic's zone inside the subquery: PostgreSQL then probes per doctor,
    and never hashes every free slot of the day instead."""
    if not zones:
        return false()
    bounds = {name: day_bounds(day, zone(name)) for name in zones}
    start = case({name: b[0] for name, b in bounds.items()}, value=Clinic.timezone)
    end = case({name: b[1] for name, b in bounds.items()}, value=Clinic.timezone)
    return exists().where(
        Slot.doctor_id == Doctor.id,
        Slot.start_at >= start,
        Slot.start_at < end,
        free_slot_clause(now),
    )


def _available_on_clause(day: date, now: datetime, zones: list[str]):
    """A doctor has a free slot on `day`, read in their clinic's own zone.

    On PostgreSQL from doctor_free_days (models/scheduling.py), one index range for the day
    instead of a probe per doctor: the day's latest free start is still to come. Only the
    doctors whose day has a slot held for payment are probed as well (a hold may have lapsed
    since, freeing its slot). SQLite keeps no counts: it probes every doctor.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return _day_probe(day, now, zones)
    days = select(DoctorFreeDay.doctor_id).where(DoctorFreeDay.day == day)
    return or_(
        Doctor.id.in_(days.where(DoctorFreeDay.last_free_at > now)),
        and_(
            Doctor.id.in_(days.where(DoctorFreeDay.held_slots > 0)),
            _day_probe(day, now, zones),
        ),
    )


def search_doctors(criteria: DoctorSearch, *, now: datetime) -> SearchPage:
    """Doctors matching the criteria, with their next free slot, in the order `sort` names
    (SORTS). Raises InvalidInput.

    One statement finds the page: the matches are ranked and counted from their ids and sort
    keys alone (a narrow subquery, with the total as a window count), and only the page's
    doctors are joined to their accounts and clinics and probed for their next free slot.
    """
    _validate(criteria)
    stmt = select(Doctor.id).join(Doctor.user).join(Doctor.clinic).where(listed_doctor_clause())
    if criteria.specialty:
        stmt = stmt.where(Doctor.specialties.any(Specialty.slug == criteria.specialty))
    if criteria.clinic_id is not None:
        stmt = stmt.where(Doctor.clinic_id == criteria.clinic_id)
    if criteria.city:
        stmt = stmt.where(func.lower(Clinic.city) == criteria.city.strip().lower())
    if criteria.q and criteria.q.strip():
        stmt = stmt.where(like.contains(like.folded(User.name), criteria.q, ignore_case=False))
    zones = clinic_zones() if criteria.available_on is not None else []
    if criteria.available_on is not None:
        stmt = stmt.where(_available_on_clause(criteria.available_on, now, zones))
    if criteria.language is not None:
        code = criteria.language.strip().lower()
        stmt = stmt.where(
            exists().where(DoctorLanguage.doctor_id == Doctor.id, DoctorLanguage.code == code)
        )

    distances: dict[int, float] = {}
    if criteria.near is not None:
        radius = criteria.radius_km or DEFAULT_RADIUS_KM
        for clinic_id, lat, lng in db.session.execute(
            select(Clinic.id, Clinic.latitude, Clinic.longitude).where(
                Clinic.latitude.is_not(None), Clinic.longitude.is_not(None)
            )
        ):
            km = haversine_km(criteria.near, (lat, lng))
            if km <= radius:
                distances[clinic_id] = km
        if not distances:
            return SearchPage([], 0, criteria.page, criteria.per_page)
        stmt = stmt.where(Doctor.clinic_id.in_(distances))
        ranked = sorted(distances, key=distances.get)
        order = [case({cid: rank for rank, cid in enumerate(ranked)}, value=Doctor.clinic_id)]
    else:
        order = []

    # With a day asked for, the next free time shown is that day's first.
    day = criteria.available_on
    if criteria.sort == "price":
        order = [Doctor.fee_currency, Doctor.fee_amount]
    elif criteria.sort == "price_desc":
        order = [Doctor.fee_currency, Doctor.fee_amount.desc()]
    elif criteria.sort == "earliest":
        # The database sorts by the same per-doctor index probe it shows, then pages.
        order = [_next_free(now, _day_start(day, zones) if day else None).asc().nulls_last()]
    elif criteria.sort == "rating":
        order = [bayesian_score().desc(), Doctor.rating_count.desc()]
    keys = [*order, User.name, Doctor.id]
    page = (
        stmt.add_columns(
            func.row_number().over(order_by=keys).label("position"),
            func.count().over().label("total"),
        )
        .order_by(*keys)
        .limit(criteria.per_page)
        .offset((criteria.page - 1) * criteria.per_page)
        .subquery("page")
    )
    # The page's next free times, each probed once (a LIMIT keeps PostgreSQL from merging
    # this into the statement below, where it would be probed again for every row of the
    # joined specialties and languages).
    next_free = _next_free(now, _day_start(day, zones) if day else None)
    paged = (
        select(page.c.id, page.c.position, page.c.total, next_free.label("next_available"))
        .select_from(page)
        .join(Doctor, Doctor.id == page.c.id)
        .join(Clinic, Clinic.id == Doctor.clinic_id)
        .limit(criteria.per_page)
        .subquery("paged")
    )
    rows = (
        db.session.execute(
            select(Doctor, paged.c.next_available, paged.c.total)
            .join(paged, paged.c.id == Doctor.id)
            .join(Doctor.user)
            .join(Doctor.clinic)
            .order_by(paged.c.position)
            .options(
                contains_eager(Doctor.user).raiseload("*", sql_only=True),
                contains_eager(Doctor.clinic).raiseload("*", sql_only=True),
                joinedload(Doctor.specialties),
                joinedload(Doctor.spoken_languages),
                raiseload("*", sql_only=True),  # a hot path: what is not loaded here raises
            )
        )
        .unique()
        .all()
    )
    if rows:
        total = rows[0].total
    elif criteria.page == 1:
        total = 0
    else:  # past the last page: count the matches on their own
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = [
        DoctorResult(doctor, _aware(next_at), distances.get(doctor.clinic_id))
        for doctor, next_at, _total in rows
    ]
    return SearchPage(items, total, criteria.page, criteria.per_page)


def _day_start(day: date, zones: list[str]):
    """SQL: the start of `day` in the doctor's clinic's zone (the query joins Clinic)."""
    if not zones:
        return None  # no clinic, no doctor to find
    return case({name: day_bounds(day, zone(name))[0] for name in zones}, value=Clinic.timezone)


def _next_free(now: datetime, after=None):
    """Column: the start of the doctor's next free slot (one index probe per doctor), at or
    after `after` (an SQL expression) when given."""
    stmt = select(Slot.start_at).where(Slot.doctor_id == Doctor.id, free_slot_clause(now))
    if after is not None:
        stmt = stmt.where(Slot.start_at >= after)
    return stmt.order_by(Slot.start_at).limit(1).correlate(Doctor, Clinic).scalar_subquery()


def doctor_profile(doctor_id: int, *, now: datetime) -> DoctorResult:
    """One listed doctor (public_doctor) with their next free slot. Raises DoctorNotFound."""
    doctor = public_doctor(doctor_id)
    next_at = db.session.scalar(free_slots_query(doctor.id, now).with_only_columns(Slot.start_at))
    return DoctorResult(doctor, _aware(next_at), None)


def _aware(value: datetime | None) -> datetime | None:
    # A scalar subquery's column carries no column type: SQLite hands back naive UTC text.
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


# What a listing shows of a slot: rows of these columns, not Slot objects (a listing is up to
# hundreds of slots, and building an ORM object for each was a third of its time).
LISTED_SLOT_COLUMNS = (Slot.id, Slot.doctor_id, Slot.start_at, Slot.end_at, Slot.mode, Slot.status)


def slot_listing(
    *, doctor_id: int, start: datetime, end: datetime, available_only: bool, now: datetime
) -> list[tuple[Row, bool]]:
    """A doctor's slots starting in [start, end), each with whether it can be booked now:
    (a row with the slot's LISTED_SLOT_COLUMNS by name, bookable now).

    Raises InvalidInput for a reversed or too long range.
    """
    if end <= start:
        raise InvalidInput(gettext("'to' must be after 'from'."), field="to")
    if end - start > timedelta(days=MAX_LISTING_DAYS):
        raise InvalidInput(
            gettext(
                "A listing covers at most %(MAX_LISTING_DAYS)s days.",
                MAX_LISTING_DAYS=MAX_LISTING_DAYS,
            ),
            field="to",
        )
    free = free_slot_clause(now).label("available")
    stmt = (
        select(*LISTED_SLOT_COLUMNS, free)
        .where(Slot.doctor_id == doctor_id, Slot.start_at >= start, Slot.start_at < end)
        .order_by(Slot.start_at)
    )
    if available_only:
        stmt = stmt.where(free_slot_clause(now))
    return [(row, bool(row.available)) for row in db.session.execute(stmt)]
