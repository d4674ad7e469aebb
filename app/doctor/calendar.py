"""Laying out appointments on the page: a day list and a week grid in clinic-local time."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.models import Appointment, AppointmentStatus, Slot, SlotStatus
from app.services.l10n import format_dt
from app.services.scheduling.availability import SlotView

ROW_MINUTES = 15  # one row of the week grid
DEFAULT_HOURS = (8, 18)  # shown even on an empty week


@dataclass
class Placed:
    appointment: Appointment
    local_start: datetime
    local_end: datetime
    row: int = 0  # grid row; row 1 holds the day headings
    span: int = 1


@dataclass
class DayColumn:
    day: date
    items: list[Placed] = field(default_factory=list)


@dataclass
class WeekGrid:
    days: list[DayColumn]
    first_hour: int
    last_hour: int

    @property
    def rows(self) -> int:
        return (self.last_hour - self.first_hour) * 60 // ROW_MINUTES

    @property
    def hours(self) -> list[tuple[int, int]]:
        """(hour, grid row) of each hour label."""
        per_hour = 60 // ROW_MINUTES
        return [
            (hour, 2 + (hour - self.first_hour) * per_hour)
            for hour in range(self.first_hour, self.last_hour)
        ]


def placed(appointment: Appointment, tz: ZoneInfo) -> Placed:
    return Placed(
        appointment, appointment.starts_at.astimezone(tz), appointment.ends_at.astimezone(tz)
    )


def _minutes(moment: datetime, day: date) -> int:
    """Wall-clock minutes since the start of `day` (capped at the day's end)."""
    if moment.date() > day:
        return 24 * 60
    return moment.hour * 60 + moment.minute


def week_grid(appointments: list[Appointment], monday: date, tz: ZoneInfo) -> WeekGrid:
    days = [DayColumn(monday + timedelta(days=i)) for i in range(7)]
    items = [placed(a, tz) for a in appointments]
    for item in items:
        offset = (item.local_start.date() - monday).days
        if 0 <= offset < 7:
            days[offset].items.append(item)
    starts = [_minutes(i.local_start, i.local_start.date()) for i in items]
    ends = [_minutes(i.local_end, i.local_start.date()) for i in items]
    first_hour = min([DEFAULT_HOURS[0], *(m // 60 for m in starts)])
    last_hour = max([DEFAULT_HOURS[1], *(math.ceil(m / 60) for m in ends)])
    for column in days:
        for item in column.items:
            start = _minutes(item.local_start, column.day)
            end = max(_minutes(item.local_end, column.day), start + ROW_MINUTES)
            item.row = 2 + (start - first_hour * 60) // ROW_MINUTES
            item.span = max(1, math.ceil((end - start) / ROW_MINUTES))
    return WeekGrid(days, first_hour, min(last_hour, 24))


@dataclass
class SlotRow:
    slot: Slot
    state: str  # open, booked, held (a card hold awaiting payment), blocked or past
    local_start: datetime
    local_end: datetime
    appointment: Appointment | None = None


def slot_state(view: SlotView, now: datetime) -> str:
    if view.appointment is not None and view.slot.start_at > now:
        held = view.appointment.status is AppointmentStatus.PENDING_PAYMENT
        return "held" if held else "booked"
    if view.slot.status is SlotStatus.BLOCKED:
        return "blocked"
    return "open" if view.available else "past"


def slot_days(
    views: list[SlotView], monday: date, tz: ZoneInfo, now: datetime
) -> list[tuple[date, list[SlotRow]]]:
    """A week's slots (from availability.doctor_slots) by local day, Monday first."""
    days: dict[date, list[SlotRow]] = {monday + timedelta(days=i): [] for i in range(7)}
    for view in views:
        slot = view.slot
        row = SlotRow(
            slot,
            slot_state(view, now),
            slot.start_at.astimezone(tz),
            slot.end_at.astimezone(tz),
            view.appointment,
        )
        days.setdefault(row.local_start.date(), []).append(row)
    return sorted(days.items())


def planned_days(planned: list, tz: ZoneInfo) -> list[tuple[date, list[tuple[datetime, datetime]]]]:
    """A bulk plan's slots as local (start, end) pairs by local day."""
    days: dict[date, list[tuple[datetime, datetime]]] = {}
    for item in planned:
        start = item.start.astimezone(tz)
        days.setdefault(start.date(), []).append((start, item.end.astimezone(tz)))
    return sorted(days.items())


def skipped_label(when: datetime | date) -> str:
    """A skipped candidate's local time (a date when a whole day was excluded)."""
    if isinstance(when, datetime):
        return format_dt(when, "%a %d %b %Y, %H:%M")
    return format_dt(when, "%a %d %b %Y")
