"""Admin searches take `%` and `_` literally: they are characters people type, not wildcards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import AuditLog, PaymentMethod, Role
from app.services import like
from tests.factories import make_appointment, make_doctor, make_payment, make_slot, make_user


def _page(web, path: str, **query) -> str:
    response = web.get(path, query_string=query)
    assert response.status_code == 200, query
    return response.get_data(as_text=True)


def test_the_pattern_escapes_wildcards_and_the_escape_character():
    assert like.contains_pattern(" 50%_Off\\ ") == "%50\\%\\_off\\\\%"


def test_doctor_search_takes_percent_and_underscore_literally(web, admin):
    make_doctor(name="Dr. Plain")
    make_doctor(name="Dr. 100% Sure")

    assert "Dr. Plain" not in _page(web, "/admin/doctors", q="%")
    page = _page(web, "/admin/doctors", q="100%")
    assert "Dr. 100% Sure" in page and "Dr. Plain" not in page
    assert "Dr. Plain" not in _page(web, "/admin/doctors", q="_")


def test_user_search_takes_underscore_literally(web, admin):
    make_user(Role.PATIENT, name="Ana Lima", email="ana@example.com")
    make_user(Role.PATIENT, name="Bo Snake", email="bo_snake@example.com")

    page = _page(web, "/admin/users", q="_")
    assert "bo_snake@example.com" in page and "ana@example.com" not in page


def test_audit_actor_search_takes_wildcards_literally(web, admin):
    grace = make_user(Role.DOCTOR, name="Grace Hopper", email="grace@example.com")
    db.session.add(AuditLog(action="auth.sign_in", actor_id=grace.id, at=datetime.now(UTC)))
    db.session.commit()

    assert _page(web, "/admin/audit", actor="grace").count('data-testid="audit-row"') >= 1
    assert "Nothing in the audit trail matches" in _page(web, "/admin/audit", actor="%")
    assert "Nothing in the audit trail matches" in _page(web, "/admin/audit", actor="gr_ce")


def test_payment_patient_search_takes_wildcards_literally(web, admin):
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    appointment = make_appointment(
        make_slot(make_doctor(), start=start),
        make_user(Role.PATIENT, name="Ana Lima"),
        payment_method=PaymentMethod.CARD,
    )
    make_payment(appointment)

    def rows(**query) -> int:
        return _page(web, "/admin/payments", **query).count('data-testid="payment-row"')

    assert rows(patient="ana") == 1
    assert rows(patient="%") == 0
    assert rows(patient="a_a") == 0
