"""Slots: listing a doctor's (public); publishing, editing, blocking, deleting (the doctor,
admins, helpers with doctors.manage: the availability service decides which doctor)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import jsonify
from flask_login import current_user

from app.api import BEARER, ID, ErrorSchema, bp, request_now
from app.api.slot_schemas import (
    BulkResultSchema,
    SlotCreateSchema,
    SlotListingArgsSchema,
    SlotListSchema,
    SlotSchema,
    SlotUpdateSchema,
    WeeklyPatternSchema,
    dump_listed_slots,
)
from app.httpcache import cacheable
from app.models import Role
from app.rbac import public, roles_required
from app.services.localtime import day_bounds, zone
from app.services.scheduling import appointments, availability, search

DEFAULT_LISTING = timedelta(days=14)
SLOT_MANAGERS = (Role.DOCTOR, Role.HELPER)


def _instant(value: date | datetime, clinic_zone) -> datetime:
    """A plain date means that day's midnight in the clinic's zone."""
    if isinstance(value, datetime):
        return value
    return day_bounds(value, clinic_zone)[0]


@bp.route(f"/doctors/<{ID}:doctor_id>/slots", methods=["GET"])
@bp.arguments(SlotListingArgsSchema, location="query")
@bp.response(200, SlotListSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such doctor")
@bp.alt_response(422, schema=ErrorSchema, description="Bad, reversed or too long range")
@public
@cacheable()
def list_slots(args, doctor_id: int):
    """A doctor's slots starting in [from, to), each saying whether it can be booked now."""
    # slot_listing neither checks the doctor nor knows their zone: public_doctor_zone does
    # both (one scalar query: the listing needs nothing else of the doctor).
    clinic_zone = zone(appointments.public_doctor_zone(doctor_id))
    now = request_now()
    start = _instant(args.get("start", now), clinic_zone)
    end = _instant(args["end"], clinic_zone) if "end" in args else start + DEFAULT_LISTING
    rows = search.slot_listing(
        doctor_id=doctor_id, start=start, end=end, available_only=args["available"], now=now
    )
    return jsonify(dump_listed_slots(rows))  # = SlotListSchema, without its per-object cost


@bp.route(f"/doctors/<{ID}:doctor_id>/slots", methods=["POST"])
@bp.arguments(SlotCreateSchema)
@bp.response(201, SlotSchema)
@bp.alt_response(409, schema=ErrorSchema, description="slot_overlap")
@bp.alt_response(403, schema=ErrorSchema, description="Not this doctor's account")
@bp.doc(**BEARER)
@roles_required(*SLOT_MANAGERS)
def create_slot(body, doctor_id: int):
    """Publish one slot; start and end are ISO 8601 with an offset."""
    return availability.create_slot(
        doctor_id=doctor_id, actor_id=current_user.id, now=request_now(), **body
    )


@bp.route(f"/doctors/<{ID}:doctor_id>/slots/bulk", methods=["POST"])
@bp.arguments(WeeklyPatternSchema)
@bp.response(201, BulkResultSchema)
@bp.alt_response(200, schema=BulkResultSchema, description="Preview: nothing was created")
@bp.alt_response(403, schema=ErrorSchema, description="Not this doctor's account")
@bp.doc(**BEARER)
@roles_required(*SLOT_MANAGERS)
def create_weekly_slots(body, doctor_id: int):
    """Publish slots from a weekly pattern in clinic-local time (or preview them)."""
    preview = body.pop("preview")
    pattern = availability.WeeklyPattern(
        weekdays=frozenset(body.pop("weekdays")),
        breaks=tuple((b["start"], b["end"]) for b in body.pop("breaks")),
        skip_dates=frozenset(body.pop("skip_dates")),
        **body,
    )
    use_case = availability.plan_weekly_slots if preview else availability.create_weekly_slots
    result = use_case(
        doctor_id=doctor_id, pattern=pattern, actor_id=current_user.id, now=request_now()
    )
    return result, 200 if preview else 201


@bp.route(f"/slots/<{ID}:slot_id>", methods=["PATCH"])
@bp.arguments(SlotUpdateSchema)
@bp.response(200, SlotSchema)
@bp.alt_response(409, schema=ErrorSchema, description="slot_overlap or slot_booked")
@bp.doc(**BEARER)
@roles_required(*SLOT_MANAGERS)
def update_slot(body, slot_id: int):
    """Move a slot or change its mode (a booked slot cannot be moved)."""
    return availability.update_slot(
        slot_id=slot_id, actor_id=current_user.id, now=request_now(), **body
    )


@bp.route(f"/slots/<{ID}:slot_id>/block", methods=["POST"])
@bp.response(200, SlotSchema)
@bp.doc(**BEARER)
@roles_required(*SLOT_MANAGERS)
def block_slot(slot_id: int):
    """Stop new bookings of a slot (an existing appointment stays)."""
    return availability.set_blocked(slot_id=slot_id, blocked=True, actor_id=current_user.id)


@bp.route(f"/slots/<{ID}:slot_id>/unblock", methods=["POST"])
@bp.response(200, SlotSchema)
@bp.doc(**BEARER)
@roles_required(*SLOT_MANAGERS)
def unblock_slot(slot_id: int):
    """Open a blocked slot for booking again."""
    return availability.set_blocked(slot_id=slot_id, blocked=False, actor_id=current_user.id)


@bp.route(f"/slots/<{ID}:slot_id>", methods=["DELETE"])
@bp.response(204)
@bp.alt_response(409, schema=ErrorSchema, description="slot_booked or slot_has_history")
@bp.doc(**BEARER)
@roles_required(*SLOT_MANAGERS)
def delete_slot(slot_id: int):
    """Delete a slot no appointment ever used."""
    availability.delete_slot(slot_id=slot_id, actor_id=current_user.id, now=request_now())
