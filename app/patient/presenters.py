"""How the patient pages show things: local days, video or not, offered alternatives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.models import Appointment, AppointmentStatus, Clinic, Slot, SlotMode, SlotStatus
from app.patient.forms import ReviewForm
from app.services.reviews import listing, reviews
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


def review_panel(appointment: Appointment, viewer_id: int, now: datetime) -> dict:
    """What the appointment page's review section needs: the review (None before one is
    written), whether it may be written or changed now, and the form filled in."""
    review = listing.review_of_appointment(appointment.id)
    can_write = review is None and appointment.status is AppointmentStatus.COMPLETED
    can_change = review is not None and reviews.can_edit(review, viewer_id, now)
    form = None
    if can_write or can_change:
        form = ReviewForm(
            formdata=None,
            rating=str(review.rating) if review else None,
            comment=review.comment if review else None,
        )
        if review:
            form.submit.label.text = "Save the changes"
    return {
        "review": review,
        "review_form": form,
        "review_editable_until": reviews.editable_until(review) if review else None,
    }
