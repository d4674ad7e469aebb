"""Issue 17 item 7: a doctor is found, shown and booked only once verified and complete (a
clinic, a specialty, a fee above 0); access.is_listed and listed_doctor_clause are the rule."""

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Doctor, Role
from app.services import access
from app.services.scheduling import booking, search
from app.services.scheduling.booking import SlotUnavailable
from tests.factories import make_doctor, make_slot, make_user


def _unverified(doctor: Doctor) -> None:
    doctor.verified_at = None


def _no_clinic(doctor: Doctor) -> None:
    doctor.clinic = None


def _no_specialty(doctor: Doctor) -> None:
    doctor.specialties = []


def _free(doctor: Doctor) -> None:
    doctor.fee_amount = 0


UNLISTED = [_unverified, _no_clinic, _no_specialty, _free]


def _search_ids() -> list[int]:
    page = search.search_doctors(search.DoctorSearch(), now=datetime.now(UTC))
    return [r.doctor.id for r in page.items]


def test_the_factory_doctor_is_listed_and_found(client):
    doctor = make_doctor()
    assert access.is_listed(doctor)
    assert access.listing_gaps(doctor) == []
    assert _search_ids() == [doctor.id]
    assert client.get(f"/doctors/{doctor.id}").status_code == 200


@pytest.mark.parametrize("unlist", UNLISTED, ids=lambda f: f.__name__.strip("_"))
def test_an_incomplete_or_unverified_doctor_is_not_found_shown_or_booked(client, unlist):
    doctor = make_doctor()
    slot = make_slot(doctor, start=datetime.now(UTC) + timedelta(days=3))
    unlist(doctor)
    db.session.commit()

    assert not access.is_listed(doctor)
    assert access.listing_gaps(doctor)
    assert _search_ids() == []
    assert client.get(f"/doctors/{doctor.id}").status_code == 404
    assert client.get("/api/v1/doctors").get_json()["total"] == 0
    patient = make_user(Role.PATIENT, email_verified_at=datetime.now(UTC))
    with pytest.raises(SlotUnavailable):
        booking.book_slot(
            patient_id=patient.id,
            slot_id=slot.id,
            payment_method="cash",
            notes=None,
            now=datetime.now(UTC),
        )


def test_patients_see_the_verified_mark(client):
    doctor = make_doctor(name="Dr. Checked")
    search = client.get("/doctors").get_data(as_text=True)
    assert 'data-testid="verified"' in search and "✓ Verified" in search
    page = client.get(f"/doctors/{doctor.id}").get_data(as_text=True)
    assert "✓ Verified" in page
