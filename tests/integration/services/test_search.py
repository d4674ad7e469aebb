"""Finding doctors and free slots."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.extensions import db
from app.models import AppointmentStatus, SlotStatus, Specialty
from app.services.errors import InvalidInput
from app.services.scheduling import search
from app.services.scheduling.search import DoctorSearch
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)


def names(page):
    return [r.doctor.name for r in page.items]


def run(**criteria):
    return search.search_doctors(DoctorSearch(**criteria), now=NOW)


@pytest.fixture
def world(ctx):
    cardio = Specialty(name="Cardiology", slug="cardiology")
    derm = Specialty(name="Dermatology", slug="dermatology")
    db.session.add_all([cardio, derm])
    ny = make_clinic(name="Harbor", city="New York", latitude=40.71, longitude=-74.0)
    jersey = make_clinic(name="Hudson", city="Jersey City", latitude=40.72, longitude=-74.05)
    london = make_clinic(
        name="Thames", city="London", latitude=51.5, longitude=-0.12, timezone="Europe/London"
    )
    doctors = {
        "ana": make_doctor(clinic=ny, name="Dr. Ana 100%_Real", specialties=[cardio]),
        "ben": make_doctor(clinic=jersey, name="Dr. Ben Cole", specialties=[derm]),
        "cy": make_doctor(clinic=london, name="Dr. Cy Moss", specialties=[cardio, derm]),
    }
    return doctors


def test_filters_by_specialty_clinic_city_and_name(world):
    assert names(run(specialty="cardiology")) == ["Dr. Ana 100%_Real", "Dr. Cy Moss"]
    assert names(run(clinic_id=world["ben"].clinic_id)) == ["Dr. Ben Cole"]
    assert names(run(city="  new YORK ")) == ["Dr. Ana 100%_Real"]
    assert names(run(q="cole")) == ["Dr. Ben Cole"]
    assert names(run(q="100%_")) == ["Dr. Ana 100%_Real"]
    assert names(run(q="%")) == ["Dr. Ana 100%_Real"]  # wildcards are matched literally


def test_deactivated_doctors_are_not_listed(world):
    world["ben"].user.is_active = False
    db.session.commit()
    assert "Dr. Ben Cole" not in names(run())


def test_distance_filters_and_orders_nearest_first(world):
    page = run(near=(40.7205, -74.049), radius_km=20)
    assert names(page) == ["Dr. Ben Cole", "Dr. Ana 100%_Real"]
    assert page.items[0].distance_km < 1 < page.items[1].distance_km < 20
    assert names(run(near=(51.5, -0.12))) == ["Dr. Cy Moss"]  # default radius 25 km
    assert names(run(near=(0.0, 0.0), radius_km=5)) == []


def test_next_available_skips_booked_blocked_and_held_slots(world):
    ana = world["ana"]
    first = make_slot(ana, start=NOW + timedelta(hours=1))
    make_appointment(first, status=AppointmentStatus.CONFIRMED)
    make_slot(ana, start=NOW + timedelta(hours=2), status=SlotStatus.BLOCKED)
    held = make_slot(ana, start=NOW + timedelta(hours=3))
    make_appointment(
        held, status=AppointmentStatus.PENDING_PAYMENT, hold_expires_at=NOW + timedelta(minutes=5)
    )
    lapsed = make_slot(ana, start=NOW + timedelta(hours=4))
    make_appointment(
        lapsed, status=AppointmentStatus.PENDING_PAYMENT, hold_expires_at=NOW - timedelta(minutes=1)
    )
    result = run(q="ana").items[0]
    assert result.next_available == lapsed.start_at  # a lapsed hold no longer holds the slot


def test_available_on_reads_the_day_in_each_clinics_zone(world):
    # 2031-03-05 03:00 UTC is still 4 March in New York but 5 March in London.
    make_slot(world["ana"], start=datetime(2031, 3, 5, 3, 0, tzinfo=UTC))
    make_slot(world["cy"], start=datetime(2031, 3, 5, 3, 0, tzinfo=UTC))
    assert names(run(available_on=date(2031, 3, 4))) == ["Dr. Ana 100%_Real"]
    assert names(run(available_on=date(2031, 3, 5))) == ["Dr. Cy Moss"]


def test_pagination(world):
    first = run(per_page=2, page=1)
    second = run(per_page=2, page=2)
    assert (first.total, first.pages) == (3, 2)
    assert len(first.items) == 2 and len(second.items) == 1
    assert not set(names(first)) & set(names(second))


@pytest.mark.parametrize(
    "criteria",
    [
        {"page": 0},
        {"per_page": 500},
        {"near": (95.0, 0.0)},
        {"radius_km": 10},
        {"near": (1.0, 1.0), "radius_km": 10_000},
    ],
)
def test_bad_search_criteria_are_refused(ctx, criteria):
    with pytest.raises(InvalidInput):
        run(**criteria)


def test_slot_listing_marks_what_can_be_booked(ctx):
    doctor = make_doctor()
    free = make_slot(doctor, start=NOW + timedelta(hours=1))
    booked = make_slot(doctor, start=NOW + timedelta(hours=2))
    make_appointment(booked)
    listing = search.slot_listing(
        doctor_id=doctor.id, start=NOW, end=NOW + timedelta(days=1), available_only=False, now=NOW
    )
    assert [(s.id, available) for s, available in listing] == [(free.id, True), (booked.id, False)]
    only_free = search.slot_listing(
        doctor_id=doctor.id, start=NOW, end=NOW + timedelta(days=1), available_only=True, now=NOW
    )
    assert [s.id for s, _ in only_free] == [free.id]


@pytest.mark.parametrize(("days", "message"), [(-1, "after"), (0, "after"), (200, "92 days")])
def test_slot_listing_refuses_reversed_and_huge_ranges(ctx, days, message):
    doctor = make_doctor()
    with pytest.raises(InvalidInput, match=message):
        search.slot_listing(
            doctor_id=doctor.id, start=NOW, end=NOW + timedelta(days=days),
            available_only=False, now=NOW,
        )  # fmt: skip
