"""The public hot paths load what they show in a few statements, never lazily: the search
(API and page), a doctor's page, their profile and their slots. Their queries carry
`raiseload`, so a relationship used without being loaded fails here rather than costing a
query per row or per page in production; and no relationship is loaded on its own."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import DoctorLanguage
from app.services.scheduling.appointments import public_doctor
from tests.factories import make_completed_visit, make_doctor, make_review, make_slot


@contextmanager
def counted():
    """The statements sent in the block, and the relationship loads among them."""
    seen = {"statements": 0, "relationship loads": []}

    def statement(*_args):
        seen["statements"] += 1

    def orm(state):
        if state.is_relationship_load:
            seen["relationship loads"].append(str(state.statement)[:200])

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(Session, "do_orm_execute", orm)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(Session, "do_orm_execute", orm)


@pytest.fixture
def listed(ctx):
    """Doctors with everything the public pages show: specialties, languages, reviews,
    slots (free, and one taken)."""
    doctors = []
    for n in range(3):
        doctor = make_doctor(name=f"Dr. Hot {n}")
        doctor.spoken_languages = []
        db.session.commit()

        doctor.spoken_languages.extend([DoctorLanguage(code="en"), DoctorLanguage(code="es")])
        db.session.commit()
        start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        for hour in range(3):
            make_slot(doctor, start=start + timedelta(hours=hour))
        make_review(make_completed_visit(doctor), rating=4)
        doctors.append(doctor)
    return doctors


def paths(doctors) -> list[str]:
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    doctor = doctors[0].id
    return [
        "/api/v1/doctors",
        f"/api/v1/doctors?available_on={day}&sort=earliest",
        "/api/v1/doctors?q=hot&sort=rating",
        f"/api/v1/doctors/{doctor}",
        f"/api/v1/doctors/{doctor}/slots",
        f"/doctors?available_on={day}",
        "/doctors?q=hot",
        f"/doctors/{doctor}",
        f"/doctors/{doctor}?reviews_page=1",
    ]


# The statements each path may send (the catalogue cache is off in tests: with it on, the
# specialties, clinics, zones and footer links are read once per process, not per request).
MOST = {
    "/api/v1/doctors": 1,  # the page, counted with it
    "/api/v1/doctors?available_on": 2,  # + the clinics' zones
    "/api/v1/doctors?q": 1,
    "/api/v1/doctors/": 2,  # the doctor, their next free time
    "/doctors?available_on": 5,  # + specialties, clinics (the form), zones, footer links
    "/doctors?q": 4,
    "/doctors/": 4,  # the doctor, the week's slots, a page of reviews, footer links
}


def _allowed(path: str) -> int:
    if "/slots" in path:
        return 2  # the doctor, the slots
    return max(n for prefix, n in MOST.items() if path.startswith(prefix))


def test_public_pages_load_nothing_lazily(client, listed):
    for path in paths(listed):
        with counted() as seen:
            response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        assert seen["relationship loads"] == [], path
        assert seen["statements"] <= _allowed(path), (path, seen["statements"])
    assert "Dr. Hot 0" in client.get(f"/doctors/{listed[0].id}").get_data(as_text=True)


def test_a_relationship_the_public_loader_does_not_load_raises(listed):
    """The guard itself: what the public pages show is loaded; anything more raises."""
    doctor_id = listed[0].id
    db.session.expunge_all()  # loaded afresh, as in a request
    doctor = public_doctor(doctor_id)
    assert [s.name for s in doctor.specialties] and doctor.user.name and doctor.clinic.name
    with pytest.raises(InvalidRequestError, match="raise_on_sql"):
        _ = doctor.user.permissions
    with pytest.raises(InvalidRequestError, match="raise_on_sql"):
        _ = doctor.clinic.doctors
