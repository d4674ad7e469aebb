"""Finding doctors (public)."""

from __future__ import annotations

from flask import jsonify

from app.api import ID, ErrorSchema, bp, request_now
from app.api.doctor_schemas import (
    DoctorPageSchema,
    DoctorSchema,
    DoctorSearchArgsSchema,
    dump_doctor_page,
)
from app.httpcache import cacheable
from app.rbac import public
from app.services.scheduling import search


@bp.route("/doctors")
@bp.arguments(DoctorSearchArgsSchema, location="query", as_kwargs=True)
@bp.response(200, DoctorPageSchema)
@bp.alt_response(422, schema=ErrorSchema, description="Invalid filters or paging")
@public
@cacheable()
def search_doctors(**criteria):
    """Search doctors by specialty, clinic, city, name, a free day or distance."""
    page = search.search_doctors(search.DoctorSearch(**criteria), now=request_now())
    return jsonify(dump_doctor_page(page))  # = DoctorPageSchema, without its per-object cost


@bp.route(f"/doctors/<{ID}:doctor_id>")
@bp.response(200, DoctorSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such doctor")
@public
@cacheable()
def get_doctor(doctor_id: int):
    """One doctor, with their next free slot."""
    return search.doctor_profile(doctor_id, now=request_now())
