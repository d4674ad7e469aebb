"""The languages a doctor speaks: edited on their profile page, only known codes, shown by
name on search and on the doctor's page."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import AuditLog, DoctorLanguage
from tests.factories import make_doctor


@pytest.fixture
def doctor(client, auth):
    doctor = make_doctor(name="Dr. Sofia Rivera")
    auth.login(doctor.user.email)
    return doctor


def save(client, *codes: str, query: str = ""):
    return client.post(
        f"/doctor/profile/languages{query}",
        data={"languages": list(codes), "submit": "Save languages"},
    )


def test_profile_page_offers_languages_by_name(client, doctor):
    page = client.get("/doctor/profile").get_data(as_text=True)
    assert 'value="es"' in page and "Spanish" in page
    assert 'name="languages" type="checkbox"' in page
    assert 'enctype="multipart/form-data"' in page


def test_a_doctor_saves_languages_and_patients_see_them_by_name(client, doctor):
    response = save(client, "es", "en")

    assert response.status_code == 302
    db.session.refresh(doctor)
    assert doctor.language_codes == ["en", "es"]
    profile = client.get("/doctor/profile").get_data(as_text=True)
    assert "Languages saved." in profile
    assert re.search(
        r'<input checked id="languages-\d+" name="languages" [^>]*value="es">', profile
    )
    search = client.get("/doctors").get_data(as_text=True)
    assert '<dd data-testid="languages">English, Spanish</dd>' in search
    page = client.get(f"/doctors/{doctor.id}").get_data(as_text=True)
    assert '<dd data-testid="languages">English, Spanish</dd>' in page
    entry = db.session.scalars(db.select(AuditLog).where(AuditLog.action == "doctor.languages_set"))
    assert entry.one().data == {"languages": ["en", "es"]}


def test_unticking_every_language_clears_them(client, doctor):
    save(client, "fr")
    assert save(client).status_code == 302
    db.session.refresh(doctor)
    assert doctor.language_codes == []
    assert 'data-testid="languages"' not in client.get("/doctors").get_data(as_text=True)


@pytest.mark.parametrize("codes", [("xx",), ("en", "klingon"), ("EN'--",)])
def test_unknown_codes_are_refused_with_a_form_error(client, doctor, codes):
    save(client, "de")

    response = save(client, *codes)

    assert response.status_code == 422
    assert "is not a language we list" in response.get_data(as_text=True)
    db.session.refresh(doctor)
    assert doctor.language_codes == ["de"]


def test_the_database_refuses_a_malformed_code(ctx, doctor):
    db.session.add(DoctorLanguage(doctor_id=doctor.id, code="EN"))
    with pytest.raises(Exception, match="ck_doctor_languages_code_iso_639_1"):
        db.session.commit()
    db.session.rollback()


def test_a_doctor_cannot_change_another_doctors_languages(client, auth):
    owner = make_doctor()
    other = make_doctor()
    auth.login(other.user.email)

    assert save(client, "es", query=f"?doctor_id={owner.id}").status_code == 403
    db.session.refresh(owner)
    assert owner.language_codes == []


def test_the_profile_is_in_the_doctor_navigation(client, doctor):
    page = client.get("/doctor/").get_data(as_text=True)
    assert '<a href="/doctor/profile">Profile</a>' in page
