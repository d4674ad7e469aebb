"""Schemas of slots: listing, publishing one, a weekly pattern, editing."""

from __future__ import annotations

import marshmallow as ma

from app.api.fields import (
    DateOrOffsetDateTime,
    Day,
    Flag,
    IsoString,
    LocalTime,
    OffsetDateTime,
    Weekday,
)
from app.models import SlotMode, SlotStatus

_DAY_TIME = "Clinic-local wall time, HH:MM"


class SlotSchema(ma.Schema):
    id = ma.fields.Integer()
    start = ma.fields.DateTime(attribute="start_at")
    end = ma.fields.DateTime(attribute="end_at")
    mode = ma.fields.Enum(SlotMode, by_value=True)
    status = ma.fields.Enum(SlotStatus, by_value=True)


class ListedSlotSchema(SlotSchema):
    """Dumps a (Slot, bookable now) pair from services.search.slot_listing."""

    available = ma.fields.Boolean()

    @ma.pre_dump
    def unpack(self, row, **_kwargs):
        slot, available = row
        return {
            "id": slot.id,
            "start_at": slot.start_at,
            "end_at": slot.end_at,
            "mode": slot.mode,
            "status": slot.status,
            "available": available,
        }


class SlotListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ListedSlotSchema))


class SlotListingArgsSchema(ma.Schema):
    start = DateOrOffsetDateTime(
        data_key="from",
        metadata={"description": "With an offset, or YYYY-MM-DD (clinic midnight); default now"},
    )
    end = DateOrOffsetDateTime(
        data_key="to",
        metadata={"description": "Exclusive; as `from`. Default: `from` + 14 days"},
    )
    available = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only slots that can be booked now"}
    )


class SlotCreateSchema(ma.Schema):
    start = OffsetDateTime(required=True)
    end = OffsetDateTime(required=True)
    mode = ma.fields.Enum(SlotMode, by_value=True, load_default=SlotMode.IN_PERSON)


class SlotUpdateSchema(ma.Schema):
    start = OffsetDateTime()
    end = OffsetDateTime()
    mode = ma.fields.Enum(SlotMode, by_value=True)

    @ma.validates_schema
    def _something_to_change(self, data: dict, **_) -> None:
        if not data:  # also a PATCH without a body: a 422, not a silent no-op
            raise ma.ValidationError("Send the new start and end, and/or the mode.")


class BreakSchema(ma.Schema):
    start = LocalTime(required=True, metadata={"description": _DAY_TIME})
    end = LocalTime(required=True, metadata={"description": _DAY_TIME})


class WeeklyPatternSchema(ma.Schema):
    weekdays = ma.fields.List(
        Weekday(),
        required=True,
        validate=ma.validate.Length(min=1, max=7),
        metadata={"description": '0 (Monday) to 6, or names such as "mon"'},
    )
    start_date = Day(required=True)
    end_date = Day(required=True, metadata={"description": "Inclusive"})
    day_start = LocalTime(required=True, metadata={"description": _DAY_TIME})
    day_end = LocalTime(required=True, metadata={"description": _DAY_TIME})
    slot_minutes = ma.fields.Integer(strict=True, load_default=30)
    breaks = ma.fields.List(
        ma.fields.Nested(BreakSchema), load_default=list, validate=ma.validate.Length(max=20)
    )
    skip_dates = ma.fields.List(Day(), load_default=list, validate=ma.validate.Length(max=366))
    mode = ma.fields.Enum(SlotMode, by_value=True, load_default=SlotMode.IN_PERSON)
    preview = Flag(load_default=False, metadata={"description": "Only show what would be created"})


class PlannedSlotSchema(ma.Schema):
    start = ma.fields.DateTime()
    end = ma.fields.DateTime()
    local_start = IsoString(metadata={"description": "Start in the clinic's zone"})


class SkippedSlotSchema(ma.Schema):
    start = IsoString(
        attribute="local_start",
        metadata={"description": "Clinic-local date-time, or a whole date (YYYY-MM-DD)"},
    )
    reason = ma.fields.String()


class BulkResultSchema(ma.Schema):
    created = ma.fields.Integer(metadata={"description": "0 for a preview"})
    skipped = ma.fields.List(ma.fields.Nested(SkippedSlotSchema))
    slots = ma.fields.List(
        ma.fields.Nested(PlannedSlotSchema),
        attribute="planned",
        metadata={"description": "The slots created (or, for a preview, that would be)"},
    )


def dump_listed_slots(rows) -> dict:
    """SlotListSchema().dump({"items": rows}), by hand: a listing is up to hundreds of slots,
    and marshmallow's per-object work was most of its time (a test checks the two agree)."""
    return {
        "items": [
            {
                "id": slot.id,
                "start": slot.start_at.isoformat(),
                "end": slot.end_at.isoformat(),
                "mode": slot.mode.value,
                "status": slot.status.value,
                "available": bool(available),
            }
            for slot, available in rows
        ]
    }
