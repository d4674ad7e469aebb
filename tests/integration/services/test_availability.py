"""Publishing availability: single slots, weekly patterns, edits, blocks, deletes, DST."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AppointmentStatus, Role, Slot, SlotStatus
from app.services.errors import Forbidden, InvalidInput
from app.services.scheduling import availability
from app.services.scheduling.availability import WeeklyPattern
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)  # a Saturday
START = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)


def create(doctor, start=START, minutes=30, actor=None, **kw):
    return availability.create_slot(
        doctor_id=doctor.id,
        start=start,
        end=start + timedelta(minutes=minutes),
        actor_id=(actor or doctor.user).id,
        now=NOW,
        **kw,
    )


def slot_count(doctor) -> int:
    return db.session.scalar(select(func.count(Slot.id)).where(Slot.doctor_id == doctor.id))


def test_doctor_publishes_a_slot(ctx):
    doctor = make_doctor()
    slot = create(doctor, mode="video")
    assert (slot.start_at, slot.mode.value, slot.created_by_id) == (START, "video", doctor.user_id)


def test_admin_may_publish_for_a_doctor_but_others_may_not(ctx):
    doctor = make_doctor()
    create(doctor, actor=make_user(Role.ADMIN))
    for outsider in (make_doctor().user, make_user(Role.PATIENT), make_user(Role.HELPER)):
        with pytest.raises(Forbidden):
            create(doctor, start=START + timedelta(hours=1), actor=outsider)
    assert slot_count(doctor) == 1


@pytest.mark.parametrize(
    ("start", "minutes", "message"),
    [
        (NOW - timedelta(hours=1), 30, "future"),
        (START, 0, "after the start"),
        (START, -30, "after the start"),
        (START, 2, "between"),
        (START, 9 * 60, "between"),
        (NOW + timedelta(days=800), 30, "two years"),
    ],
)
def test_bad_slot_times_are_refused_with_a_reason(ctx, start, minutes, message):
    doctor = make_doctor()
    with pytest.raises(InvalidInput, match=message):
        create(doctor, start=start, minutes=minutes)
    assert slot_count(doctor) == 0


def test_overlapping_slot_is_refused(ctx):
    doctor = make_doctor()
    create(doctor)
    with pytest.raises(availability.SlotOverlap):
        create(doctor, start=START + timedelta(minutes=15))
    create(doctor, start=START + timedelta(minutes=30))  # back to back is fine
    assert slot_count(doctor) == 2


def test_a_booked_slot_cannot_be_moved_or_deleted_but_can_be_blocked(ctx):
    doctor = make_doctor()
    slot = make_slot(doctor, start=START)
    make_appointment(slot, status=AppointmentStatus.CONFIRMED)
    with pytest.raises(availability.SlotHasAppointment, match="moved"):
        availability.update_slot(
            slot_id=slot.id, actor_id=doctor.user_id, now=NOW, start=START + timedelta(hours=2),
            end=START + timedelta(hours=2, minutes=30),
        )  # fmt: skip
    with pytest.raises(availability.SlotHasAppointment, match="deleted"):
        availability.delete_slot(slot_id=slot.id, actor_id=doctor.user_id, now=NOW)
    availability.set_blocked(slot_id=slot.id, blocked=True, actor_id=doctor.user_id)
    assert slot.status is SlotStatus.BLOCKED
    # The patient booked it in person: switching it to video needs them first.
    with pytest.raises(availability.SlotHasAppointment, match="mode"):
        availability.update_slot(slot_id=slot.id, actor_id=doctor.user_id, now=NOW, mode="video")
    assert slot.mode.value == "in_person"


def test_an_open_slot_moves_and_deletes(ctx):
    doctor = make_doctor()
    slot = make_slot(doctor, start=START)
    later = START + timedelta(hours=3)
    availability.update_slot(
        slot_id=slot.id, actor_id=doctor.user_id, now=NOW, start=later,
        end=later + timedelta(minutes=45),
    )  # fmt: skip
    assert (slot.start_at, slot.end_at) == (later, later + timedelta(minutes=45))
    availability.delete_slot(slot_id=slot.id, actor_id=doctor.user_id, now=NOW)
    assert slot_count(doctor) == 0


def test_a_slot_with_history_is_blocked_not_deleted(ctx):
    doctor = make_doctor()
    slot = make_slot(doctor, start=START)
    make_appointment(slot, status=AppointmentStatus.CANCELLED)
    with pytest.raises(availability.SlotHasHistory):
        availability.delete_slot(slot_id=slot.id, actor_id=doctor.user_id, now=NOW)


def test_moving_onto_another_slot_is_refused(ctx):
    doctor = make_doctor()
    make_slot(doctor, start=START)
    other = make_slot(doctor, start=START + timedelta(hours=2))
    with pytest.raises(availability.SlotOverlap):
        availability.update_slot(
            slot_id=other.id, actor_id=doctor.user_id, now=NOW,
            start=START + timedelta(minutes=10), end=START + timedelta(minutes=40),
        )  # fmt: skip


def pattern(**overrides) -> WeeklyPattern:
    values = dict(
        weekdays=frozenset({0, 1, 2, 3, 4}),
        day_start=time(9),
        day_end=time(12),
        slot_minutes=30,
        start_date=date(2031, 3, 3),  # Monday
        end_date=date(2031, 3, 7),
        breaks=((time(10, 30), time(11)),),
    )
    values.update(overrides)
    return WeeklyPattern(**values)


def test_weekly_pattern_preview_writes_nothing_and_skips_breaks(ctx):
    doctor = make_doctor()
    plan = availability.plan_weekly_slots(
        doctor_id=doctor.id, pattern=pattern(), actor_id=doctor.user_id, now=NOW
    )
    assert len(plan.planned) == 5 * 5  # 09:00..10:30 and 11:00..12:00, five weekdays
    local_times = sorted({p.local_start.strftime("%H:%M") for p in plan.planned})
    assert local_times == ["09:00", "09:30", "10:00", "11:00", "11:30"]
    assert slot_count(doctor) == 0


def test_weekly_pattern_reports_skip_dates_past_times_and_overlaps(ctx):
    doctor = make_doctor()  # New York clinic
    make_slot(doctor, start=datetime(2031, 3, 4, 14, 0, tzinfo=UTC))  # 09:00 EST Tuesday
    now = datetime(2031, 3, 3, 15, 10, tzinfo=UTC)  # Monday 10:10 EST
    result = availability.create_weekly_slots(
        doctor_id=doctor.id,
        pattern=pattern(skip_dates=frozenset({date(2031, 3, 6)})),
        actor_id=doctor.user_id,
        now=now,
    )
    reasons = [s.reason for s in result.skipped]
    assert reasons.count("date excluded") == 1
    assert reasons.count("in the past") == 3  # Monday 09:00, 09:30, 10:00
    assert reasons.count("overlaps an existing slot") == 1
    assert result.created == 25 - 5 - 3 - 1
    assert slot_count(doctor) == result.created + 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"weekdays": frozenset()}, "weekday"),
        ({"day_end": time(8)}, "end after"),
        ({"slot_minutes": 1}, "Slot length"),
        ({"end_date": date(2031, 2, 1)}, "before the first"),
        ({"end_date": date(2031, 9, 1)}, "92 days"),
        ({"breaks": ((time(11), time(10)),)}, "break"),
    ],
)
def test_bad_patterns_are_refused(ctx, overrides, field):
    doctor = make_doctor()
    with pytest.raises(InvalidInput, match=field):
        availability.plan_weekly_slots(
            doctor_id=doctor.id, pattern=pattern(**overrides), actor_id=doctor.user_id, now=NOW
        )


def test_pattern_across_the_spring_clock_change_keeps_local_times(ctx):
    # New York moves to daylight time on Sunday 2031-03-09 at 02:00.
    doctor = make_doctor(clinic=make_clinic(timezone="America/New_York"))
    result = availability.create_weekly_slots(
        doctor_id=doctor.id,
        pattern=pattern(
            weekdays=frozenset(range(7)), day_start=time(9), day_end=time(10), slot_minutes=60,
            start_date=date(2031, 3, 7), end_date=date(2031, 3, 10), breaks=(),
        ),
        actor_id=doctor.user_id,
        now=NOW,
    )  # fmt: skip
    starts = db.session.scalars(select(Slot.start_at).order_by(Slot.start_at)).all()
    assert [s.hour for s in starts] == [14, 14, 13, 13]  # 09:00 EST, then 09:00 EDT
    assert result.created == 4


def test_a_time_that_does_not_exist_is_skipped_with_a_reason(ctx):
    doctor = make_doctor(clinic=make_clinic(timezone="America/New_York"))
    plan = availability.plan_weekly_slots(
        doctor_id=doctor.id,
        pattern=pattern(
            weekdays=frozenset({6}), day_start=time(2), day_end=time(3), slot_minutes=30,
            start_date=date(2031, 3, 9), end_date=date(2031, 3, 9), breaks=(),
        ),
        actor_id=doctor.user_id,
        now=NOW,
    )  # fmt: skip
    assert plan.planned == []
    assert {s.reason for s in plan.skipped} == {"time does not exist (clock change)"}


def test_doctor_slots_show_who_holds_each_and_only_to_who_manages_them(ctx):
    doctor = make_doctor()
    free = make_slot(doctor, start=START)
    taken = make_slot(doctor, start=START + timedelta(hours=1))
    appointment = make_appointment(taken, status=AppointmentStatus.CONFIRMED)
    views = availability.doctor_slots(
        doctor_id=doctor.id, start=NOW, end=NOW + timedelta(days=7), actor_id=doctor.user_id,
        now=NOW,
    )  # fmt: skip
    assert [(v.slot.id, v.available, v.appointment) for v in views] == [
        (free.id, True, None),
        (taken.id, False, appointment),
    ]
    with pytest.raises(Forbidden):
        availability.doctor_slots(
            doctor_id=doctor.id, start=NOW, end=NOW + timedelta(days=7),
            actor_id=make_user(Role.PATIENT).id, now=NOW,
        )  # fmt: skip
