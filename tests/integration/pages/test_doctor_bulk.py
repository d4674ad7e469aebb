"""Slots in bulk from a weekly pattern: preview, create, clock changes and bad input."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Slot
from tests.factories import make_doctor, make_slot

NEW_YORK = ZoneInfo("America/New_York")


def _next_spring_forward() -> date:
    """The next second Sunday of March (New York's clocks go forward) at least two weeks away;
    slots are published at most two years ahead, so the dates move with the calendar."""
    today = date.today()
    for year in (today.year, today.year + 1):
        march = date(year, 3, 1)
        sunday = march + timedelta(days=(6 - march.weekday()) % 7 + 7)
        if sunday > today + timedelta(days=14):
            return sunday
    raise AssertionError("unreachable")


SPRING = _next_spring_forward()  # e.g. 2027-03-14
FIRST, LAST = SPRING - timedelta(days=6), SPRING + timedelta(days=5)  # Monday .. Friday


def _slot_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Slot))


@pytest.fixture
def doctor(auth):
    doctor = make_doctor()  # clinic in America/New_York
    auth.login(doctor.user.email)
    return doctor


def _pattern(**fields) -> dict:
    data = {
        "weekdays": ["0", "1", "2", "3", "4"],
        "day_start": "09:00",
        "day_end": "10:00",
        "slot_minutes": "60",
        "breaks": "",
        "start_date": FIRST.isoformat(),
        "end_date": LAST.isoformat(),
        "skip_dates": "",
        "mode": "in_person",
    }
    data.update(fields)
    return data


def _around_today(doctor) -> dict:
    """Every day from three days ago to three days ahead, 09:00-11:00 in hours, skipping
    today (its hours may or may not have passed) and clashing with one existing slot."""
    today = datetime.now(NEW_YORK).date()
    clash = datetime.combine(today + timedelta(days=2), datetime.min.time(), tzinfo=NEW_YORK)
    make_slot(doctor, start=(clash + timedelta(hours=9)).astimezone(UTC), minutes=30)
    return _pattern(
        weekdays=[str(d) for d in range(7)],
        day_end="11:00",
        start_date=(today - timedelta(days=3)).isoformat(),
        end_date=(today + timedelta(days=3)).isoformat(),
        skip_dates=today.isoformat(),
    )


def test_preview_writes_nothing_and_says_what_it_skips(client, doctor):
    pattern = _around_today(doctor)

    response = client.post("/doctor/slots/bulk", data={**pattern, "preview": "Preview"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Preview: 5 slots to create" in page
    assert page.count("(in the past)") == 0  # reasons are listed beside each time
    assert page.count(">in the past<") == 6
    assert page.count(">overlaps an existing slot<") == 1
    assert page.count(">date excluded<") == 1
    assert "Create 5 slots" in page
    # The create button posts the same pattern again.
    assert f'name="skip_dates" value="{pattern["skip_dates"]}"' in page
    assert page.count('type="hidden" name="weekdays"') == 7
    assert _slot_count() == 1


def test_create_makes_the_planned_slots_and_reports_the_skipped(client, doctor):
    pattern = _around_today(doctor)

    response = client.post("/doctor/slots/bulk", data={**pattern, "create": "create"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/doctor/slots?week=")
    assert _slot_count() == 1 + 5
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Created 5 slots; skipped 8." in page
    assert "Skipped: " in page and "(date excluded)" in page and "(in the past)" in page


def test_slots_stay_at_nine_local_across_the_spring_clock_change(client, doctor):
    response = client.post("/doctor/slots/bulk", data={**_pattern(), "create": "create"})

    assert response.status_code == 302
    starts = db.session.scalars(select(Slot.start_at).order_by(Slot.start_at)).all()
    assert len(starts) == 10
    for start in starts:
        expected_hour = 14 if start.date() < SPRING else 13
        assert (start.hour, start.minute) == (expected_hour, 0), start
    before = client.get(f"/doctor/slots?week={FIRST}").get_data(as_text=True)
    after = client.get(f"/doctor/slots?week={SPRING + timedelta(days=1)}").get_data(as_text=True)
    assert before.count("09:00–10:00 <small>EST</small>") == 5
    assert after.count("09:00–10:00 <small>EDT</small>") == 5
    assert "08:00–" not in after and "10:00–" not in before


def test_times_inside_the_spring_forward_gap_are_skipped(client, doctor):
    sunday = _pattern(
        weekdays=["6"],
        day_start="02:00",
        day_end="04:00",
        slot_minutes="30",
        start_date=SPRING.isoformat(),
        end_date=SPRING.isoformat(),
    )

    page = client.post("/doctor/slots/bulk", data={**sunday, "preview": "Preview"}).get_data(
        as_text=True
    )

    assert "Preview: 2 slots to create" in page
    assert f"{SPRING:%a %d %b %Y}, 02:30" in page
    assert page.count(">time does not exist (clock change)<") == 2
    assert "03:00–03:30 <small>EDT</small>" in page


def test_breaks_leave_gaps_in_the_day(client, doctor):
    data = _pattern(weekdays=["0"], day_end="14:00", breaks="12:00-13:00", end_date=str(FIRST))
    page = client.post("/doctor/slots/bulk", data={**data, "preview": "Preview"}).get_data(
        as_text=True
    )
    assert "Preview: 4 slots to create" in page
    assert "12:00–13:00" not in page and "13:00–14:00" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"breaks": "noon-1pm"}, "“noon-1pm” is not a break"),
        ({"breaks": "12:00-25:00"}, "“12:00-25:00” is not a break"),
        ({"skip_dates": "2031-02-30"}, "“2031-02-30” is not a date"),
        ({"day_start": "9am"}, "Not a valid time value."),
        ({"start_date": "March"}, "Not a valid date value."),
        ({"weekdays": []}, "Choose at least one weekday."),
        ({"weekdays": ["9"]}, "is not a valid choice for this field."),
        ({"slot_minutes": "abc"}, "Not a valid integer value."),
        ({"slot_minutes": "2"}, "Number must be between 5 and 480."),
        ({"end_date": str(FIRST - timedelta(days=2))}, "The last date must not be before"),
        ({"day_end": "08:00"}, "The day must end after it starts."),
        ({"end_date": str(FIRST + timedelta(days=120))}, "A pattern covers at most 92 days"),
        ({"end_date": str(date.today() + timedelta(days=800))}, "at most two years ahead."),
        ({"breaks": "13:00-12:00"}, "A break must end after it starts."),
    ],
)
def test_bad_pattern_input_is_a_form_error(client, doctor, fields, message):
    response = client.post("/doctor/slots/bulk", data={**_pattern(**fields), "create": "create"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _slot_count() == 0


def test_the_form_starts_with_next_week_on_weekdays(client, doctor):
    page = client.get("/doctor/slots/bulk").get_data(as_text=True)
    assert page.count('type="checkbox"') == 7 and page.count("checked") == 5
    assert "Preview" in page
