"""Free-text health information is sealed at rest: patients' booking notes, doctors' visit
notes and the reasons patients give for a consult hold ciphertext in the database and plain
text through the app; migrations 0020 and 0025 seal what was written before them (and their
downgrades open it again)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text

from app.extensions import db
from app.models import Appointment, Consult, Role
from app.services import sealing
from app.services.consults import consults
from app.services.errors import InvalidInput
from app.services.scheduling import booking, visit_notes
from tests.factories import make_appointment, make_doctor, make_slot, make_specialty, make_user

NOTE = "Chest pain when climbing stairs since March"
VERSIONS = Path(__file__).resolve().parents[2] / "migrations/versions"
MIGRATION = VERSIONS / "0020_privacy.py"
REASON_MIGRATION = VERSIONS / "0025_sealed_consult_reasons.py"


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


def _consult(reason: str):
    make_specialty("Dermatology", "dermatology")
    return consults.request_consult(
        patient_id=make_user(Role.PATIENT).id,
        specialty="dermatology",
        reason=reason,
        payment_method="cash",
        now=datetime.now(UTC),
    )


def test_a_consult_reason_is_ciphertext_in_the_database_and_plain_for_the_doctors(ctx):
    consult = _consult(NOTE)
    stored = _raw("SELECT reason FROM consults WHERE id = :id", id=consult.id)
    assert stored.startswith(sealing.PREFIX) and "Chest" not in stored
    db.session.expire_all()
    assert db.session.get(Consult, consult.id).reason == NOTE


def test_a_reason_over_500_characters_is_refused_before_sealing(ctx):
    with pytest.raises(InvalidInput, match="at most 500"):
        _consult("x" * 501)
    assert _raw("SELECT count(*) FROM consults") == 0


def test_migration_0025_seals_old_plain_reasons_and_its_downgrade_opens_them(ctx):
    consult_id = _consult("placeholder").id
    _run("downgrade", REASON_MIGRATION)  # the table as before 0025: plain text, 500 at most
    db.session.execute(
        text("UPDATE consults SET reason = :r WHERE id = :id"), {"r": NOTE, "id": consult_id}
    )
    db.session.commit()

    _run("upgrade", REASON_MIGRATION)
    stored = _raw("SELECT reason FROM consults WHERE id = :id", id=consult_id)
    assert stored.startswith(sealing.PREFIX) and sealing.unseal(stored) == NOTE
    # Ciphertext is longer than 500 characters: the database no longer caps the column.
    long_reason = "y" * 500
    db.session.get(Consult, consult_id).reason = long_reason
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Consult, consult_id).reason == long_reason


def _migration(path: Path = MIGRATION):
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(step: str, path: Path = MIGRATION) -> None:
    db.session.commit()  # no transaction of the test holds a lock the DDL waits for
    with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        getattr(_migration(path), step)()


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
