"""The hot paths' hand-written dumps (api/doctor_schemas.py, api/slot_schemas.py) write what
the documented schemas would: the schemas stay the contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.api.doctor_schemas import DoctorPageSchema, dump_doctor_page
from app.api.slot_schemas import SlotListSchema, dump_listed_slots
from app.extensions import db
from app.models import AppointmentStatus, DoctorLanguage, SlotMode, SlotStatus
from app.services.scheduling.search import DoctorSearch, search_doctors, slot_listing
from tests.factories import (
    make_appointment,
    make_clinic,
    make_completed_visit,
    make_doctor,
    make_review,
    make_slot,
)

NOW = datetime.now(UTC)


def test_doctor_page_dump_is_the_schemas(ctx):
    clinic = make_clinic(latitude=40.7, longitude=-74.0)
    photo = make_doctor(clinic=clinic, name="Dr. Photo", bio="Hello", requires_approval=True)
    photo.photo_hash = "0123456789abcdef0123456789abcdef"
    photo.spoken_languages.extend([DoctorLanguage(code="en"), DoctorLanguage(code="fr")])
    db.session.commit()
    make_slot(photo, start=(NOW + timedelta(days=1)).replace(microsecond=0))
    plain = make_doctor(clinic=clinic, name="Dr. Plain", bio=None)
    make_review(make_completed_visit(plain), rating=3)
    for criteria in (DoctorSearch(), DoctorSearch(near=(40.7, -74.0), radius_km=10)):
        page = search_doctors(criteria, now=NOW)
        assert page.total == 2
        assert dump_doctor_page(page) == DoctorPageSchema().dump(page)


def test_slot_listing_dump_is_the_schemas(ctx):
    doctor = make_doctor()
    start = (NOW + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    make_slot(doctor, start=start, mode=SlotMode.VIDEO)
    make_slot(doctor, start=start + timedelta(hours=1), status=SlotStatus.BLOCKED)
    make_appointment(make_slot(doctor, start=start + timedelta(hours=2)))
    make_appointment(
        make_slot(doctor, start=start + timedelta(hours=3)), status=AppointmentStatus.CANCELLED
    )
    rows = slot_listing(
        doctor_id=doctor.id, start=NOW, end=NOW + timedelta(days=3), available_only=False, now=NOW
    )
    assert len(rows) == 4
    assert dump_listed_slots(rows) == SlotListSchema().dump({"items": rows})
