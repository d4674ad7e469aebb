"""The audit trail page: search by actor, action, target and dates; paginated; admins only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Role
from tests.factories import make_appointment, make_doctor, make_slot, make_user
from tests.integration.admin.conftest import make_helper, sign_in


def _entry(action, actor=None, at=None, target=("user", 1)):
    db.session.add(
        AuditLog(
            action=action,
            actor_id=actor.id if actor else None,
            target_type=target[0],
            target_id=str(target[1]),
            data={"note": action},
            ip="10.0.0.1",
            at=at or datetime.now(UTC),
        )
    )


def _rows(page: str) -> int:
    return page.count('data-testid="audit-row"')


def test_audit_trail_is_searched_by_actor_action_target_and_dates(web, admin):
    grace = make_user(Role.DOCTOR, name="Grace Hopper", email="grace@example.com")
    last_year = datetime(2025, 3, 1, 12, tzinfo=UTC)
    _entry("admin.clinic_created", admin, target=("clinic", 7))
    _entry("auth.sign_in", grace)
    _entry("auth.sign_in", grace, at=last_year)
    db.session.commit()

    def search(**query) -> str:
        response = web.get("/admin/audit", query_string=query)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert _rows(search(actor="hopper")) == 2
    assert _rows(search(actor="GRACE@")) == 2
    assert _rows(search(action="auth.sign_in", actor="grace")) == 2
    assert _rows(search(action="admin.")) >= 1
    page = search(target_type="clinic", target_id="7")
    assert _rows(page) == 1 and "admin.clinic_created" in page
    assert _rows(search(actor="grace", since="2025-01-01", until="2025-12-31")) == 1
    today = datetime.now(UTC).date().isoformat()
    assert _rows(search(actor="grace", since=today)) == 1
    assert "Nothing in the audit trail matches" in search(actor="nobody")
    assert web.get("/admin/audit?since=yesterday").status_code == 422


def test_audit_trail_is_paginated_newest_first(web, admin):
    start = datetime.now(UTC) - timedelta(days=1)
    for n in range(60):
        _entry(f"test.e{n:02d}", at=start + timedelta(minutes=n))
    db.session.commit()

    first = web.get("/admin/audit?action=test.").get_data(as_text=True)
    second = web.get("/admin/audit?action=test.&page=2").get_data(as_text=True)

    assert _rows(first) == 50 and _rows(second) == 10
    assert first.index("test.e59") < first.index("test.e58")
    assert "test.e09" in second and "test.e10" not in second
    assert "Page 1 of 2" in first and "page=2" in first


def test_audit_trail_is_for_admins_only(web):
    sign_in(web, make_helper("users.manage", "doctors.manage", "content.manage", "reports.view"))
    assert web.get("/admin/audit").status_code == 403


def test_slot_and_appointment_actions_record_the_client_address(client, auth):
    """Every audit entry made while serving a request carries the request's client address,
    slot and appointment actions included (they take no `ip` argument)."""
    doctor = make_doctor()
    auth.login(doctor.user.email)
    monday = date.today() + timedelta(weeks=5) - timedelta(days=date.today().weekday())
    added = client.post(
        "/doctor/slots/new",
        data={"date": monday.isoformat(), "start": "09:00", "end": "09:30", "mode": "video"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert added.status_code == 302
    start = datetime.combine(monday + timedelta(days=1), time(15), tzinfo=UTC)
    booked = make_appointment(make_slot(doctor, start=start))
    cancelled = client.post(
        f"/doctor/appointments/{booked.id}/cancel",
        data={"reason": "clinic closed"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert cancelled.status_code == 302
    entries = {
        e.action: e.ip
        for e in db.session.scalars(
            select(AuditLog).where(AuditLog.action.in_(("slot.created", "appointment.cancelled")))
        )
    }
    assert entries == {"slot.created": "203.0.113.7", "appointment.cancelled": "203.0.113.7"}
