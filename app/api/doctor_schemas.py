"""Schemas of doctors as patients find them."""

from __future__ import annotations

import marshmallow as ma

from app.api.fields import Day, Flattened, Id, LatLng, PageNumber, Text
from app.services.languages import LANGUAGES, language_name
from app.services.links import public_url
from app.services.photos import SIZES, photo_filename
from app.services.scheduling.search import MAX_PER_PAGE, SORTS


class FeeSchema(ma.Schema):
    amount = ma.fields.Integer(attribute="fee_amount", metadata={"description": "Minor units"})
    currency = ma.fields.String(attribute="fee_currency", metadata={"description": "ISO 4217"})


class DoctorClinicSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    city = ma.fields.String()
    timezone = ma.fields.String()


class SpecialtyNameSchema(ma.Schema):
    name = ma.fields.String()


class LanguageSchema(ma.Schema):
    """Dumps a DoctorLanguage row."""

    code = ma.fields.String(metadata={"description": "ISO 639-1", "example": "es"})
    name = ma.fields.Function(
        lambda row: language_name(row.code), metadata={"type": "string", "example": "Spanish"}
    )


def _photo_url(doctor, size: int) -> str | None:
    if doctor.photo_hash is None:
        return None
    return public_url(
        "main.doctor_photo", doctor_id=doctor.id, filename=photo_filename(doctor.photo_hash, size)
    )


class RatingSchema(ma.Schema):
    """Dumps a DoctorResult's doctor's rating totals (kept by services/reviews)."""

    average = ma.fields.Float(
        attribute="doctor.rating_average",
        allow_none=True,
        metadata={"description": "Mean of the visible ratings, one decimal; null: no reviews"},
    )
    count = ma.fields.Integer(attribute="doctor.rating_count")


class DoctorSchema(ma.Schema):
    """Dumps a services.search.DoctorResult (a doctor with their next free slot)."""

    id = ma.fields.Integer(attribute="doctor.id")
    name = ma.fields.String(attribute="doctor.name")
    specialties = ma.fields.Pluck(
        SpecialtyNameSchema, "name", many=True, attribute="doctor.specialties"
    )
    clinic = ma.fields.Nested(DoctorClinicSchema, attribute="doctor.clinic", allow_none=True)
    fee = ma.fields.Nested(FeeSchema, attribute="doctor")
    next_available = ma.fields.DateTime(
        allow_none=True, metadata={"description": "Start of the next free slot, or null"}
    )
    distance_km = ma.fields.Float(
        allow_none=True, metadata={"description": "From `near`, when given"}
    )
    rating = Flattened(
        RatingSchema,
        metadata={"description": "The visible reviews' mean (null: none yet) and count"},
    )
    requires_approval = ma.fields.Boolean(attribute="doctor.requires_approval")
    bio = ma.fields.String(attribute="doctor.bio", allow_none=True)
    languages = ma.fields.List(
        ma.fields.Nested(LanguageSchema),
        attribute="doctor.spoken_languages",
        metadata={"description": "Languages the doctor speaks, by code"},
    )
    photo_url = ma.fields.Function(
        lambda result: _photo_url(result.doctor, SIZES[0]),
        allow_none=True,
        metadata={
            "type": "string",
            "format": "uri",
            "description": f"{SIZES[0]}x{SIZES[0]} WebP photo, or null (no photo); the URL "
            "changes with the photo, so it may be cached for good",
        },
    )
    photo_thumbnail_url = ma.fields.Function(
        lambda result: _photo_url(result.doctor, SIZES[-1]),
        allow_none=True,
        metadata={
            "type": "string",
            "format": "uri",
            "description": f"{SIZES[-1]}x{SIZES[-1]} WebP photo, or null",
        },
    )


class DoctorPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DoctorSchema))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
    pages = ma.fields.Integer()


class DoctorSearchArgsSchema(ma.Schema):
    specialty = Text(
        validate=ma.validate.Length(max=80), metadata={"description": "Specialty slug"}
    )
    clinic_id = Id(strict=False)
    city = Text(validate=ma.validate.Length(max=120))
    q = Text(validate=ma.validate.Length(max=120), metadata={"description": "Part of the name"})
    available_on = Day(metadata={"description": "Has a free slot that day (in the clinic's zone)"})
    near = LatLng(metadata={"description": "LAT,LNG; sorts by distance", "example": "40.71,-74"})
    radius_km = ma.fields.Float(metadata={"description": "With `near`; default 25"})
    language = Text(
        validate=ma.validate.OneOf(
            sorted(LANGUAGES), error="language is an ISO 639-1 code we list, such as en or es."
        ),
        metadata={"description": "Speaks this language (ISO 639-1)", "example": "es"},
    )
    sort = ma.fields.String(
        load_default="relevance",
        validate=ma.validate.OneOf(SORTS, error=f"sort is one of {', '.join(SORTS)}."),
        metadata={
            "description": "relevance (nearest first with `near`, then by name), price (fee "
            "ascending within each currency, then name), price_desc, earliest (next free "
            "slot first; doctors without one last), rating (Bayesian average of the reviews "
            "first: a prior of 10 reviews of 3.5 stars, so a long good record outranks one "
            "5-star review)"
        },
    )
    page = PageNumber(1)
    per_page = PageNumber(20, MAX_PER_PAGE)


# --- The hot paths' own dumps ---------------------------------------------------------------
# The search answers 20 doctors a page and each is half a dozen nested schemas: marshmallow's
# per-object work was a third of the request's time. These write the same JSON as
# DoctorSchema and DoctorPageSchema (which stay the documented contract; a test checks the
# two agree).


def _dump_clinic(clinic) -> dict:
    return {"id": clinic.id, "name": clinic.name, "city": clinic.city, "timezone": clinic.timezone}


def dump_doctor(result) -> dict:
    """DoctorSchema().dump(result), by hand."""
    doctor = result.doctor
    clinic = doctor.clinic
    next_at = result.next_available
    return {
        "id": doctor.id,
        "name": doctor.user.name,
        "specialties": [s.name for s in doctor.specialties],
        "clinic": None if clinic is None else _dump_clinic(clinic),
        "fee": {"amount": doctor.fee_amount, "currency": doctor.fee_currency},
        "next_available": next_at.isoformat() if next_at is not None else None,
        "distance_km": float(result.distance_km) if result.distance_km is not None else None,
        "rating": {"average": doctor.rating_average, "count": doctor.rating_count},
        "requires_approval": doctor.requires_approval,
        "bio": doctor.bio,
        "languages": [
            {"code": row.code, "name": language_name(row.code)} for row in doctor.spoken_languages
        ],
        "photo_url": _photo_url(doctor, SIZES[0]),
        "photo_thumbnail_url": _photo_url(doctor, SIZES[-1]),
    }


def dump_doctor_page(page) -> dict:
    """DoctorPageSchema().dump(...) of a services.search.SearchPage, by hand."""
    return {
        "items": [dump_doctor(result) for result in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }
