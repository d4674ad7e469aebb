"""Deleting an account against itself and against a booking made meanwhile (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, AuditLog, Role, User
from app.services.accounts import closure
from app.services.errors import DomainError
from app.services.scheduling import booking
from tests.factories import PASSWORD, make_appointment, make_doctor, make_slot, make_user


def _deleted_entries() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "account.deleted")
    )


def test_two_deletions_at_once_erase_once(app, ctx):
    patient = make_user(Role.PATIENT)
    make_appointment(patient=patient)
    patient_id = patient.id  # the threads must not touch the test's session
    barrier, outcomes = threading.Barrier(2), []

    def delete():
        with app.app_context():
            barrier.wait()
            try:
                closure.delete_account(user_id=patient.id, password=PASSWORD, now=datetime.now(UTC))
                outcomes.append("deleted")
            except DomainError as exc:
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=delete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes)[0] == "deleted" and outcomes.count("deleted") == 1, outcomes
    db.session.expire_all()
    assert _deleted_entries() == 1
    assert db.session.get(User, patient_id).is_active is False


def test_a_booking_made_while_visits_are_cancelled_stops_the_erasure(ctx, monkeypatch):
    doctor = make_doctor()
    patient = make_user(Role.PATIENT)
    first = make_appointment(make_slot(doctor), patient)
    late_slot = make_slot(doctor, start=first.starts_at + timedelta(days=1))
    real_cancel = booking.cancel_appointment

    def cancel_then_book_elsewhere(**kwargs):
        result = real_cancel(**kwargs)
        # Another tab of the same patient books while the deletion is under way.
        booking.book_slot(
            patient_id=patient.id, slot_id=late_slot.id, payment_method="cash", notes=None,
            now=kwargs["now"],
        )  # fmt: skip
        return result

    monkeypatch.setattr(closure.booking, "cancel_appointment", cancel_then_book_elsewhere)
    with pytest.raises(closure.BookedMeanwhile):
        closure.delete_account(user_id=patient.id, password=PASSWORD, now=datetime.now(UTC))
    db.session.expire_all()
    user = db.session.get(User, patient.id)
    assert user.is_active and user.password_hash is not None  # nothing erased
    assert db.session.get(Appointment, first.id).status is AppointmentStatus.CANCELLED
    assert _deleted_entries() == 0
