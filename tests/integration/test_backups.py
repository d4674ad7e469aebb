"""`flask backup` / `flask restore`: a database with bookings and payments comes back whole
in a fresh database, and the app works on it; a restore never lands on live data unasked."""

from __future__ import annotations

from datetime import UTC, datetime

import flask_migrate
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Appointment, Payment, Refund, User
from app.services.accounts.tokens import issue_token
from tests import services
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_appointment, make_payment, make_user


def _invoke(app, *args: str):
    """Run a CLI command against `app` (the test's own app context would win otherwise)."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Appointment, Payment, Refund)
    }


@pytest.fixture
def fresh_database():
    url = services.create_database()
    yield url
    services.drop_database(url)


@pytest.fixture
def booked(ctx):
    """Two patients' visits, one paid by card with a partial refund."""
    cash = make_appointment()
    card = make_appointment()
    payment = make_payment(card)
    db.session.add(Refund(payment_id=payment.id, amount=1000, reason="goodwill"))
    payment.amount_refunded = 1000
    db.session.commit()
    return {"cash": cash.id, "card": card.id, "payment": payment.id}


def test_backup_restores_into_a_fresh_database_with_the_same_rows_and_a_working_app(
    runner, booked, fresh_database, make_app, tmp_path
):
    before = _counts()
    appointment = db.session.get(Appointment, booked["card"])
    expected = (appointment.patient.email, appointment.starts_at, appointment.fee_amount)
    path = tmp_path / "carebook.dump"

    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(b"PGDMP")

    restored = make_app(fresh_database)
    result = _invoke(restored, "restore", str(path))
    assert result.exit_code == 0, result.output

    with restored.app_context():
        assert _counts() == before
        again = db.session.get(Appointment, booked["card"])
        assert (again.patient.email, again.starts_at, again.fee_amount) == expected
        payment = db.session.get(Payment, booked["payment"])
        assert payment.amount_refunded == 1000
        assert [r.reason for r in payment.refunds] == ["goodwill"]
        token = issue_token(
            again.patient, secret_key=TEST_SECRET_KEY, ttl_seconds=600, now=datetime.now(UTC)
        )
        response = restored.test_client().get(
            f"/api/v1/appointments/{again.id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["id"] == again.id
        # The restored database takes new writes (its sequences came along).
        make_user()
        db.session.remove()

    # A second restore over it is refused without --force, and replaces it with it.
    result = _invoke(restored, "restore", str(path))
    assert result.exit_code != 0 and "not empty" in result.output
    result = _invoke(restored, "restore", "--force", str(path))
    assert result.exit_code == 0, result.output
    with restored.app_context():
        assert _counts() == before
        db.session.remove()


def test_restore_refuses_a_non_empty_database_and_a_foreign_file(runner, booked, tmp_path):
    path = tmp_path / "carebook.dump"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    before = _counts()
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code != 0 and "not empty" in result.output
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    result = runner.invoke(args=["restore", "--force", str(bogus)])
    assert result.exit_code != 0 and "is not a postgresql backup" in result.output
    assert _counts() == before


def test_sqlite_backup_and_restore_use_the_backup_api(make_app, tmp_path):
    source = make_app(f"sqlite:///{tmp_path / 'live.db'}")
    with source.app_context():
        flask_migrate.upgrade()
        patient_email = make_appointment().patient.email
        db.session.remove()
    path = tmp_path / "copy.sqlite3"
    assert _invoke(source, "backup", str(path)).exit_code == 0

    target = make_app(f"sqlite:///{tmp_path / 'restored.db'}")
    result = _invoke(target, "restore", str(path))
    assert result.exit_code == 0, result.output
    with target.app_context():
        assert db.session.scalars(select(Appointment)).one().patient.email == patient_email
        db.session.remove()
