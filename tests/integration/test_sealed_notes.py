"""Free-text health information is sealed at rest: patients' booking notes and doctors' visit
notes hold ciphertext in the database and plain text through the app; migration 0020 seals
the notes written before it (and its downgrade opens them again)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text

from app.extensions import db
from app.models import Appointment, Role
from app.services import sealing
from app.services.scheduling import booking, visit_notes
from tests.factories import make_appointment, make_doctor, make_slot, make_user

NOTE = "Chest pain when climbing stairs since March"
MIGRATION = Path(__file__).resolve().parents[2] / "migrations/versions/0020_privacy.py"


def _raw(sql: str, **params):
    return db.session.execute(text(sql), params).scalar_one()


def test_a_booking_note_is_ciphertext_in_the_database_and_plain_in_the_app(client, auth):
    patient = make_user(Role.PATIENT)
    slot = make_slot()
    checkout = booking.book_appointment(
        patient_id=patient.id, slot_id=slot.id, payment_method="cash", notes=NOTE,
        now=datetime.now(UTC),
    )  # fmt: skip
    appointment_id = checkout.appointment.id
    stored = _raw("SELECT notes FROM appointments WHERE id = :id", id=appointment_id)
    assert stored.startswith(sealing.PREFIX) and "Chest" not in stored
    assert sealing.unseal(stored) == NOTE
    db.session.expire_all()
    assert db.session.get(Appointment, appointment_id).notes == NOTE

    auth.login(patient.email)
    assert NOTE in client.get(f"/appointments/{appointment_id}").get_data(as_text=True)


def test_a_visit_note_is_ciphertext_in_the_database_and_plain_for_the_doctor(ctx):
    doctor = make_doctor()
    appointment = make_appointment(make_slot(doctor))
    note = visit_notes.add_visit_note(
        appointment_id=appointment.id, actor_id=doctor.user_id, text=NOTE, now=datetime.now(UTC)
    )
    stored = _raw("SELECT body_sealed FROM visit_notes WHERE id = :id", id=note.id)
    assert stored.startswith(sealing.PREFIX) and "Chest" not in stored
    record = visit_notes.patient_record(appointment_id=appointment.id, actor_id=doctor.user_id)
    assert [n.text for n in record.notes] == [NOTE]


def _migration():
    spec = importlib.util.spec_from_file_location("migration_0020", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(step: str) -> None:
    with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        getattr(_migration(), step)()


def test_migration_0020_seals_old_plain_notes_and_its_downgrade_opens_them(ctx):
    legacy = make_appointment()
    sealed_already = make_appointment()
    sealed_already.notes = "written after sealing"
    db.session.commit()
    # A row as written before 0020: plain text in the column.
    db.session.execute(
        text("UPDATE appointments SET notes = :n WHERE id = :id"), {"n": NOTE, "id": legacy.id}
    )
    db.session.commit()
    before = _raw("SELECT notes FROM appointments WHERE id = :id", id=sealed_already.id)

    _run("upgrade")
    stored = _raw("SELECT notes FROM appointments WHERE id = :id", id=legacy.id)
    assert stored.startswith(sealing.PREFIX) and sealing.unseal(stored) == NOTE
    # Already sealed values are left as they are (not sealed twice).
    assert _raw("SELECT notes FROM appointments WHERE id = :id", id=sealed_already.id) == before
    db.session.expire_all()
    assert db.session.get(Appointment, legacy.id).notes == NOTE

    _run("downgrade")
    assert _raw("SELECT notes FROM appointments WHERE id = :id", id=legacy.id) == NOTE
    assert (
        _raw("SELECT notes FROM appointments WHERE id = :id", id=sealed_already.id)
        == "written after sealing"
    )
