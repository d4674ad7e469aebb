"""How the patient pages show things: local days, video or not, offered alternatives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.models import Slot, SlotMode


def is_video(slot: Slot) -> bool:
    return slot.mode is SlotMode.VIDEO


def by_local_day(
    slots: Iterable[Slot], tz: ZoneInfo, days: Iterable[date] | None = None
) -> list[tuple[date, list[Slot]]]:
    """Slots grouped by their day in `tz`: every day of `days` (even empty ones) when given,
    else only the days that have slots."""
    groups: dict[date, list[Slot]] = {day: [] for day in days} if days is not None else {}
    for slot in slots:
        day = slot.start_at.astimezone(tz).date()
        if days is None:
            groups.setdefault(day, [])
        if day in groups:
            groups[day].append(slot)
    return sorted(groups.items())


def week_days(first: date) -> list[date]:
    return [first + timedelta(days=n) for n in range(7)]


def alternatives(details: dict) -> list[dict]:
    """SlotUnavailable's `alternatives` (ISO strings) with datetimes to show."""
    return [
        {"id": alt["id"], "start": datetime.fromisoformat(alt["start"])}
        for alt in details.get("alternatives", [])
    ]
