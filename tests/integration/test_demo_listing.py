"""`flask seed-demo` seeds doctors patients can find: listed (verified and complete)."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from app import demo
from app.extensions import db
from app.models import Doctor
from app.services import access
from app.services.scheduling import search


def test_every_demo_doctor_is_listed_and_found(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    doctors = db.session.scalars(select(Doctor)).all()
    assert len(doctors) == len(demo.DOCTORS)
    assert all(access.is_listed(d) for d in doctors)
    page = search.search_doctors(search.DoctorSearch(per_page=50), now=datetime.now(UTC))
    assert page.total == db.session.scalar(select(func.count(Doctor.id)))


def test_demo_doctors_speak_languages_patients_can_search_by(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # again: nothing doubles
    doctors = db.session.scalars(select(Doctor)).all()
    assert all(d.language_codes for d in doctors)
    spanish = search.search_doctors(search.DoctorSearch(language="es"), now=datetime.now(UTC))
    assert {r.doctor.name for r in spanish.items} == {"Dr. Sofia Rivera", "Dr. Ana Silva"}
