"""The catalogue (services/catalogue.py): specialties, clinics, their zones and the footer's
policy links are read once per CATALOGUE_CACHE_SECONDS, and a commit that writes one of them
drops it at once (a rollback does not)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Clinic
from app.services import catalogue
from tests.factories import make_clinic, make_specialty


@pytest.fixture
def cached_app(make_app, database_url, ctx):
    app = make_app(database_url, CATALOGUE_CACHE_SECONDS=60)
    with app.app_context():
        yield app
        db.session.remove()


def reads(call) -> int:
    sent = []
    listener = lambda *args: sent.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(sent)


def test_read_once_then_forgotten_by_the_commit_that_changes_it(cached_app):
    make_specialty("Cardiology", "cardiology")
    clinic = make_clinic(name="Harbor", timezone="America/New_York")
    assert [s.name for s in catalogue.specialties()] == ["Cardiology"]
    assert catalogue.clinic_zones() == ["America/New_York"]
    assert reads(catalogue.specialties) == reads(catalogue.clinic_zones) == 0

    make_specialty("Dermatology", "dermatology")
    assert [s.name for s in catalogue.specialties()] == ["Cardiology", "Dermatology"]
    assert reads(catalogue.clinic_zones) == 0  # a specialty does not touch the clinics

    clinic = db.session.get(Clinic, clinic.id)
    clinic.timezone = "Europe/London"
    db.session.flush()
    db.session.rollback()  # not committed: nothing to forget
    assert reads(catalogue.clinic_zones) == 0
    clinic = db.session.get(Clinic, clinic.id)
    clinic.timezone = "Europe/London"
    db.session.commit()
    assert catalogue.clinic_zones() == ["Europe/London"]
    assert [c.name for c in catalogue.clinics()] == ["Harbor"]


def test_the_search_page_reads_the_catalogue_once(cached_app):
    make_specialty("Cardiology", "cardiology")
    make_clinic()
    db.session.commit()
    client = cached_app.test_client()
    assert client.get("/doctors").status_code == 200
    assert reads(lambda: client.get("/doctors")) <= 1  # the search's own page of doctors
