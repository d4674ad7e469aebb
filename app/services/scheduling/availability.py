"""Availability: doctors publish, edit, block and delete their slots.

Times arrive as UTC instants (the API) or as clinic-local wall times (pages, weekly patterns)
and are stored in UTC. The database refuses overlapping slots of one doctor; the checks here
exist to give a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext, lazy_gettext
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Appointment, Slot, SlotMode, SlotStatus, occupies_slot
from app.services import access, audit
from app.services.errors import (
    Conflict,
    InvalidInput,
    SlotNotFound,
    parse_choice,
)
from app.services.localtime import check_day, local_to_utc, zone
from app.services.scheduling.search import slot_listing
from app.services.transaction import use_case

MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 8 * 60
MAX_PATTERN_DAYS = 92
MAX_PATTERN_SLOTS = 3000
MAX_FUTURE_DAYS = 366 * 2


class SlotOverlap(Conflict):
    code = "slot_overlap"
    default_message = lazy_gettext("That time overlaps another slot of this doctor.")


class SlotHasAppointment(Conflict):
    code = "slot_booked"
    default_message = lazy_gettext(
        "This slot has an active appointment: cancel or move the appointment first."
    )


class SlotHasHistory(Conflict):
    code = "slot_has_history"
    default_message = lazy_gettext(
        "This slot has past appointments on record: block it instead of deleting."
    )


@dataclass(frozen=True)
class WeeklyPattern:
    """Slots on some weekdays between two dates, clinic-local, around breaks."""

    weekdays: frozenset[int]  # 0 = Monday
    day_start: time
    day_end: time
    slot_minutes: int
    start_date: date
    end_date: date  # inclusive
    breaks: tuple[tuple[time, time], ...] = ()
    skip_dates: frozenset[date] = frozenset()
    mode: SlotMode = SlotMode.IN_PERSON


@dataclass
class PlannedSlot:
    start: datetime  # UTC
    end: datetime
    local_start: datetime  # clinic-local, for showing


@dataclass
class Skipped:
    local_start: datetime | date
    reason: str


@dataclass
class BulkResult:
    # A preview: the slots a pattern would create; after creating: those it did create.
    planned: list[PlannedSlot] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    created_slots: list[Slot] = field(default_factory=list)

    @property
    def created(self) -> int:
        return len(self.created_slots)


def _managed_slot(actor_id: int, slot_id: int, *, lock: bool = False) -> Slot:
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise SlotNotFound()
    access.managed_doctor(actor_id, slot.doctor_id, lock=lock)
    if lock:  # the doctor first, then the slot: one lock order for every slot change
        db.session.refresh(slot, with_for_update=True)
    return slot


def managed_slot(*, slot_id: int, actor_id: int) -> Slot:
    """A slot for its doctor (or an admin) to edit. Raises SlotNotFound, Forbidden."""
    return _managed_slot(actor_id, slot_id)


def _check_times(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise InvalidInput(gettext("The end must be after the start."), field="end")
    minutes = (end - start).total_seconds() / 60
    if minutes < MIN_SLOT_MINUTES or minutes > MAX_SLOT_MINUTES:
        raise InvalidInput(
            gettext(
                "A slot lasts between %(minutes)s minutes and %(hours)s hours.",
                minutes=MIN_SLOT_MINUTES,
                hours=MAX_SLOT_MINUTES // 60,
            ),
            field="end",
        )
    if start <= now:
        raise InvalidInput(gettext("Slots can only be added in the future."), field="start")
    if start > now + timedelta(days=MAX_FUTURE_DAYS):
        raise InvalidInput(gettext("Slots can be added at most two years ahead."), field="start")


def _overlaps(doctor_id: int, start: datetime, end: datetime, exclude_id: int | None = None):
    stmt = select(Slot.id).where(
        Slot.doctor_id == doctor_id, Slot.start_at < end, Slot.end_at > start
    )
    if exclude_id is not None:
        stmt = stmt.where(Slot.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


def _has_active_appointment(slot_id: int, now: datetime) -> bool:
    return db.session.scalar(
        select(exists().where(Appointment.slot_id == slot_id, occupies_slot(now)))
    )


@use_case
def create_slot(
    *,
    doctor_id: int,
    start: datetime,
    end: datetime,
    mode: SlotMode | str = SlotMode.IN_PERSON,
    actor_id: int,
    now: datetime,
) -> Slot:
    """Publish one slot. Raises DoctorNotFound, Forbidden, InvalidInput, SlotOverlap."""
    doctor = access.managed_doctor(actor_id, doctor_id, lock=True)
    mode = _mode(mode)
    _check_times(start, end, now)
    if _overlaps(doctor.id, start, end):
        raise SlotOverlap()
    slot = Slot(
        doctor_id=doctor.id,
        start_at=start,
        end_at=end,
        mode=mode,
        created_by_id=actor_id,
        updated_by_id=actor_id,
    )
    db.session.add(slot)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a concurrent insert won: the database decided
        raise SlotOverlap() from exc
    audit.record("slot.created", actor_id=actor_id, target_type="slot", target_id=slot.id)
    return slot


class DoctorBusy(Conflict):
    code = "doctor_busy"
    default_message = lazy_gettext("You have a visit now: finish it before taking another.")


def open_slot_now(*, doctor_id: int, minutes: int, actor_id: int, now: datetime) -> Slot:
    """A video slot for a visit that begins now (an on-demand consult), inside the caller's
    transaction. Slots never overlap, so room is made the one way the existing slots allow:
    a slot in progress that nobody holds (its start has passed: nobody can book it any more)
    is closed at `now`, or deleted when no appointment ever used it; the new slot ends at
    the doctor's next slot when that comes sooner than `minutes`.

    Raises DoctorBusy (a visit in progress, or the next slot starts in under
    MIN_SLOT_MINUTES), SlotOverlap (a concurrent change won: the database decided).
    """
    doctor = access.managed_doctor(actor_id, doctor_id, lock=True)
    current = db.session.scalars(
        select(Slot).where(Slot.doctor_id == doctor.id, Slot.start_at < now, Slot.end_at > now)
    ).all()
    for slot in current:
        if _has_active_appointment(slot.id, now):
            raise DoctorBusy()
        if db.session.scalar(select(exists().where(Appointment.slot_id == slot.id))):
            slot.end_at = now
            slot.updated_by_id = actor_id
        else:
            db.session.delete(slot)
    db.session.flush()  # the room is made before the new slot is inserted (a unit of work
    # would insert first, and the exclusion constraint would refuse the overlap)
    next_start = db.session.scalar(
        select(Slot.start_at)
        .where(Slot.doctor_id == doctor.id, Slot.start_at >= now)
        .order_by(Slot.start_at)
        .limit(1)
    )
    end = now + timedelta(minutes=minutes)
    if next_start is not None and next_start < end:
        end = next_start
    if end - now < timedelta(minutes=MIN_SLOT_MINUTES):
        raise DoctorBusy(
            gettext(
                "Your next slot starts in less than %(MIN_SLOT_MINUTES)s minutes: there is no "
                "room for a consult before it.",
                MIN_SLOT_MINUTES=MIN_SLOT_MINUTES,
            )
        )
    slot = Slot(
        doctor_id=doctor.id,
        start_at=now,
        end_at=end,
        mode=SlotMode.VIDEO,
        created_by_id=actor_id,
        updated_by_id=actor_id,
    )
    db.session.add(slot)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise SlotOverlap() from exc
    audit.record("slot.created", actor_id=actor_id, target_type="slot", target_id=slot.id)
    return slot


def _mode(mode: SlotMode | str) -> SlotMode:
    return parse_choice(
        SlotMode, mode, lazy_gettext("The mode is in_person or video."), field="mode"
    )


@use_case
def update_slot(
    *,
    slot_id: int,
    actor_id: int,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    mode: SlotMode | str | None = None,
) -> Slot:
    """Move or change an open slot. A slot with an active appointment cannot be moved, nor
    switched between in person and video.

    Raises SlotNotFound, Forbidden, InvalidInput, SlotHasAppointment, SlotOverlap.
    """
    slot = _managed_slot(actor_id, slot_id, lock=True)
    new_start = start or slot.start_at
    new_end = end or slot.end_at
    moved = (new_start, new_end) != (slot.start_at, slot.end_at)
    if moved:
        if _has_active_appointment(slot.id, now):
            raise SlotHasAppointment(gettext("This slot is booked: it cannot be moved."))
        _check_times(new_start, new_end, now)
        if _overlaps(slot.doctor_id, new_start, new_end, exclude_id=slot.id):
            raise SlotOverlap()
        slot.start_at, slot.end_at = new_start, new_end
    if mode is not None and _mode(mode) is not slot.mode:
        # The patient booked an in-person visit or a video call: that is theirs to keep.
        if _has_active_appointment(slot.id, now):
            raise SlotHasAppointment(
                gettext(
                    "This slot is booked: its mode (in person or video) cannot be changed. "
                    "Cancel or move the appointment first."
                )
            )
        slot.mode = _mode(mode)
    slot.updated_by_id = actor_id
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise SlotOverlap() from exc
    audit.record("slot.updated", actor_id=actor_id, target_type="slot", target_id=slot.id)
    return slot


@use_case
def set_blocked(*, slot_id: int, blocked: bool, actor_id: int) -> Slot:
    """Block a slot (no new bookings; an existing appointment stays) or open it again."""
    slot = _managed_slot(actor_id, slot_id, lock=True)
    slot.status = SlotStatus.BLOCKED if blocked else SlotStatus.OPEN
    slot.updated_by_id = actor_id
    audit.record(
        "slot.blocked" if blocked else "slot.unblocked",
        actor_id=actor_id,
        target_type="slot",
        target_id=slot.id,
    )
    return slot


@use_case
def delete_slot(*, slot_id: int, actor_id: int, now: datetime) -> None:
    """Delete a slot that no appointment has ever used.

    Raises SlotNotFound, Forbidden, SlotHasAppointment, SlotHasHistory.
    """
    slot = _managed_slot(actor_id, slot_id, lock=True)
    if _has_active_appointment(slot.id, now):
        raise SlotHasAppointment(gettext("This slot is booked: it cannot be deleted."))
    if db.session.scalar(select(exists().where(Appointment.slot_id == slot.id))):
        raise SlotHasHistory()
    db.session.delete(slot)
    audit.record("slot.deleted", actor_id=actor_id, target_type="slot", target_id=slot_id)


@dataclass
class SlotView:
    """A slot as its doctor sees it: bookable now, and who holds it (None when nobody)."""

    slot: Slot
    available: bool
    appointment: Appointment | None


def doctor_slots(
    *, doctor_id: int, start: datetime, end: datetime, actor_id: int, now: datetime
) -> list[SlotView]:
    """A doctor's slots starting in [start, end), each with the appointment that holds it.

    Raises DoctorNotFound, Forbidden, InvalidInput (reversed or too long a range).
    """
    access.managed_doctor(actor_id, doctor_id)
    listing = slot_listing(doctor_id=doctor_id, start=start, end=end, available_only=False, now=now)
    holders = {
        a.slot_id: a
        for a in db.session.scalars(
            select(Appointment)
            .where(
                Appointment.slot_id.in_([slot.id for slot, _ in listing] or [-1]),
                occupies_slot(now),
            )
            .options(selectinload(Appointment.patient))
        )
    }
    return [SlotView(slot, available, holders.get(slot.id)) for slot, available in listing]


def _validate_pattern(pattern: WeeklyPattern, now: datetime) -> None:
    if pattern.end_date > now.date() + timedelta(days=MAX_FUTURE_DAYS):
        raise InvalidInput(gettext("Slots can be added at most two years ahead."), field="end_date")
    check_day(pattern.start_date, "start_date")
    if not pattern.weekdays or not pattern.weekdays <= frozenset(range(7)):
        raise InvalidInput(gettext("Choose at least one weekday."), field="weekdays")
    if pattern.day_end <= pattern.day_start:
        raise InvalidInput(gettext("The day must end after it starts."), field="day_end")
    if not MIN_SLOT_MINUTES <= pattern.slot_minutes <= MAX_SLOT_MINUTES:
        raise InvalidInput(
            gettext(
                "Slot length is between %(MIN_SLOT_MINUTES)s and %(MAX_SLOT_MINUTES)s minutes.",
                MIN_SLOT_MINUTES=MIN_SLOT_MINUTES,
                MAX_SLOT_MINUTES=MAX_SLOT_MINUTES,
            ),
            field="slot_minutes",
        )
    if pattern.end_date < pattern.start_date:
        raise InvalidInput(gettext("The last date must not be before the first."), field="end_date")
    if (pattern.end_date - pattern.start_date).days >= MAX_PATTERN_DAYS:
        raise InvalidInput(
            gettext(
                "A pattern covers at most %(MAX_PATTERN_DAYS)s days at a time.",
                MAX_PATTERN_DAYS=MAX_PATTERN_DAYS,
            ),
            field="end_date",
        )
    for break_start, break_end in pattern.breaks:
        if break_end <= break_start:
            raise InvalidInput(gettext("A break must end after it starts."), field="breaks")


def _candidates(pattern: WeeklyPattern):
    """Yield (local day, local start time, local end time) of every slot the pattern makes."""
    step = timedelta(minutes=pattern.slot_minutes)
    day = pattern.start_date
    while day <= pattern.end_date:
        if day.weekday() in pattern.weekdays:
            cursor = datetime.combine(day, pattern.day_start)
            day_end = datetime.combine(day, pattern.day_end)
            while cursor + step <= day_end:
                slot_end = cursor + step
                clash = next(
                    (
                        (b_start, b_end)
                        for b_start, b_end in pattern.breaks
                        if cursor.time() < b_end and slot_end.time() > b_start
                    ),
                    None,
                )
                if clash:  # resume right after the break
                    cursor = max(cursor + step, datetime.combine(day, clash[1]))
                    continue
                yield day, cursor.time(), slot_end.time()
                cursor = slot_end
        day += timedelta(days=1)


def plan_weekly_slots(*, doctor_id: int, pattern: WeeklyPattern, actor_id: int, now: datetime):
    """Preview a weekly pattern: the slots it would create and what it skips, and why.

    Nothing is written. Raises DoctorNotFound, Forbidden, InvalidInput.
    """
    doctor = access.managed_doctor(actor_id, doctor_id)
    _validate_pattern(pattern, now)
    tz = zone(doctor.timezone)
    result = BulkResult()
    for skipped_day in sorted(pattern.skip_dates):
        if pattern.start_date <= skipped_day <= pattern.end_date:
            result.skipped.append(Skipped(skipped_day, gettext("date excluded")))
    first, last = pattern.start_date - timedelta(days=1), pattern.end_date + timedelta(days=2)
    existing = list(
        db.session.execute(
            select(Slot.start_at, Slot.end_at).where(
                Slot.doctor_id == doctor.id,
                Slot.start_at < datetime.combine(last, time(0), tzinfo=tz),
                Slot.end_at > datetime.combine(first, time(0), tzinfo=tz),
            )
        )
    )
    for day, start_time, end_time in _candidates(pattern):
        local_start = datetime.combine(day, start_time, tzinfo=tz)
        if day in pattern.skip_dates:
            continue
        start = local_to_utc(day, start_time, tz)
        end = local_to_utc(day, end_time, tz)
        if start is None or end is None:
            result.skipped.append(
                Skipped(local_start, gettext("time does not exist (clock change)"))
            )
            continue
        if start <= now:
            result.skipped.append(Skipped(local_start, gettext("in the past")))
            continue
        if any(s < end and e > start for s, e in existing):
            result.skipped.append(Skipped(local_start, gettext("overlaps an existing slot")))
            continue
        result.planned.append(PlannedSlot(start, end, local_start))
        if len(result.planned) > MAX_PATTERN_SLOTS:
            raise InvalidInput(
                gettext(
                    "A pattern creates at most %(MAX_PATTERN_SLOTS)s slots at a time.",
                    MAX_PATTERN_SLOTS=MAX_PATTERN_SLOTS,
                ),
                field="end_date",
            )
    return result


@use_case
def create_weekly_slots(*, doctor_id: int, pattern: WeeklyPattern, actor_id: int, now: datetime):
    """Create the slots of a weekly pattern; returns the result with what was skipped.

    A slot that a concurrent change made overlap is skipped, not an error. Raises
    DoctorNotFound, Forbidden, InvalidInput.
    """
    access.managed_doctor(actor_id, doctor_id, lock=True)
    result = plan_weekly_slots(doctor_id=doctor_id, pattern=pattern, actor_id=actor_id, now=now)
    candidates, result.planned = result.planned, []
    for planned in candidates:
        slot = Slot(
            doctor_id=doctor_id,
            start_at=planned.start,
            end_at=planned.end,
            mode=pattern.mode,
            created_by_id=actor_id,
            updated_by_id=actor_id,
        )
        try:
            with db.session.begin_nested():
                db.session.add(slot)
            result.created_slots.append(slot)
            result.planned.append(planned)  # planned = what was created
        except IntegrityError:
            result.skipped.append(
                Skipped(planned.local_start, gettext("overlaps an existing slot"))
            )
    audit.record(
        "slot.bulk_created",
        actor_id=actor_id,
        target_type="doctor",
        target_id=doctor_id,
        data={"created": result.created, "skipped": len(result.skipped)},
    )
    return result
