"""Chat fixtures: a patient and a doctor who share a confirmed visit, bearer headers, files."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from app.models import AppointmentStatus, Doctor, Role, User
from app.services.accounts.tokens import issue_token
from app.services.chat import conversations
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def visit(doctor: Doctor, patient: User, *, days: float = 3, status=AppointmentStatus.CONFIRMED):
    start = (datetime.now(UTC) + timedelta(days=days)).replace(second=0, microsecond=0)
    return make_appointment(make_slot(doctor, start=start), patient, status=status)


@dataclass
class Pair:
    patient: User
    doctor: Doctor
    conversation_id: int

    @property
    def doctor_user(self) -> User:
        return self.doctor.user


@pytest.fixture
def pair(ctx) -> Pair:
    doctor = make_doctor(clinic=make_clinic(), name="Dr. Ana Ruiz")
    patient = make_user(Role.PATIENT, name="Pat Doe", email="pat@example.com")
    visit(doctor, patient)
    conversation, _ = conversations.open_conversation(
        actor_id=patient.id, doctor_id=doctor.id, now=datetime.now(UTC)
    )
    return Pair(patient, doctor, conversation.id)


@pytest.fixture
def bearer():
    def headers(user: User) -> dict:
        token = issue_token(
            user, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=datetime.now(UTC)
        )
        return {"Authorization": f"Bearer {token}"}

    return headers
