"""The directory: specialties and clinics (public)."""

from __future__ import annotations

import marshmallow as ma

from app.api import bp
from app.httpcache import cacheable
from app.rbac import public
from app.services import catalogue

# Specialties and clinics change seldom: clients may reuse an answer for this long.
CATALOGUE_MAX_AGE = 300


class SpecialtySchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    slug = ma.fields.String()


class SpecialtyListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SpecialtySchema))


class ClinicSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    city = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    timezone = ma.fields.String(metadata={"description": "IANA time zone of the clinic"})
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    currency = ma.fields.String(metadata={"description": "ISO 4217 code"})
    cancellation_window_hours = ma.fields.Integer(
        metadata={"description": "Free online changes end this many hours before a visit"}
    )
    late_cancellation_refund_percent = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "Inside the cancellation window: null, patients cannot cancel "
            "online; 0-100, they may, and get this percent of a card payment back"
        },
    )
    accepts_cash = ma.fields.Boolean()


class ClinicListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ClinicSchema))


@bp.route("/specialties")
@bp.response(200, SpecialtyListSchema)
@public
@cacheable(CATALOGUE_MAX_AGE)
def list_specialties():
    """All specialties, by name."""
    return {"items": catalogue.specialties()}


@bp.route("/clinics")
@bp.response(200, ClinicListSchema)
@public
@cacheable(CATALOGUE_MAX_AGE)
def list_clinics():
    """All clinics, by name."""
    return {"items": catalogue.clinics()}
