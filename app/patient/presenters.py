"""How the patient pages show things: local days, video or not, offered alternatives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.models import Clinic, Slot, SlotMode, SlotStatus
from app.services.scheduling.policy import inside_window


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


def closed_slot_ids(slots: Iterable[Slot], clinic: Clinic | None, now: datetime) -> set[int]:
    """The slots a booking made now would put inside the clinic's no-change window."""
    return {slot.id for slot in slots if inside_window(slot.start_at, clinic, now)}


def waitlist_days(listing: Iterable[tuple[Slot, bool]], tz: ZoneInfo) -> set[date]:
    """Days worth waiting for: the doctor has upcoming slots there, all of them taken (a
    waitlist is told when one of those comes free; a day without slots never frees one)."""
    taken: set[date] = set()
    free: set[date] = set()
    for slot, available in listing:
        if slot.status is not SlotStatus.OPEN:
            continue  # a blocked time never comes free
        (free if available else taken).add(slot.start_at.astimezone(tz).date())
    return taken - free
