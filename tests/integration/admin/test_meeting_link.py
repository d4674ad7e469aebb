"""A clinic's external meeting link for video visits, on the admin clinic form (issue 11)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Clinic
from tests.integration.admin.test_directory import CLINIC

JITSI = "https://meet.jit.si/carebook-{appointment_id}-{token}"


def test_a_clinic_sends_its_video_visits_to_an_external_meeting_link(web, admin):
    form = web.get("/admin/clinics/new").get_data(as_text=True)
    assert 'name="meeting_url_template"' in form

    response = web.post("/admin/clinics/new", data={**CLINIC, "meeting_url_template": JITSI})
    assert response.status_code == 302
    clinic = db.session.scalar(select(Clinic))
    assert clinic.meeting_url_template == JITSI
    assert JITSI in web.get(f"/admin/clinics/{clinic.id}/edit").get_data(as_text=True)

    cleared = web.post(
        f"/admin/clinics/{clinic.id}/edit", data={**CLINIC, "meeting_url_template": ""}
    )
    assert cleared.status_code == 302
    db.session.refresh(clinic)
    assert clinic.meeting_url_template is None  # back to Carebook's own room
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "admin.clinic_updated"))
    assert entry.data["changed"] == ["meeting_url_template"]


def test_a_meeting_link_that_is_not_https_or_has_no_placeholder_is_a_form_error(web, admin):
    cases = [
        ("http://meet.example/{token}", "https://"),
        ("https://meet.example/the-one-room", "{appointment_id} or {token}"),
        ("https://meet.example/{name}/{token}", "only {appointment_id} and {token}"),
    ]
    for template, message in cases:
        response = web.post("/admin/clinics/new", data={**CLINIC, "meeting_url_template": template})
        assert response.status_code == 422, template
        assert message in response.get_data(as_text=True), template
    assert db.session.scalar(select(Clinic)) is None
