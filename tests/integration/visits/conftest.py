"""Video visits: a doctor and their patient with a confirmed video appointment whose room is
open now, and builders for the other cases (another time, in person, another status)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Appointment, AppointmentStatus, Doctor, Role, SlotMode, User
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user


def video_visit(
    doctor: Doctor,
    patient: User,
    *,
    starts_in: timedelta = timedelta(minutes=5),
    minutes: int = 30,
    mode: SlotMode = SlotMode.VIDEO,
    status: AppointmentStatus = AppointmentStatus.CONFIRMED,
) -> Appointment:
    """An appointment starting `starts_in` from now (negative: it started already)."""
    start = (datetime.now(UTC) + starts_in).replace(microsecond=0)
    slot = make_slot(doctor, start=start, minutes=minutes, mode=mode)
    return make_appointment(slot, patient, status=status)


@dataclass
class Visit:
    doctor: Doctor
    patient: User
    appointment: Appointment

    @property
    def doctor_user(self) -> User:
        return self.doctor.user

    @property
    def path(self) -> str:
        return f"/visits/{self.appointment.id}"


@pytest.fixture
def visit(ctx) -> Visit:
    doctor = make_doctor(clinic=make_clinic(name="Riverside Clinic"), name="Dr. Lena Hart")
    patient = make_user(Role.PATIENT, name="Sam Reed", email="sam@example.com")
    return Visit(doctor, patient, video_visit(doctor, patient))


def another_visit(**options) -> Visit:
    """A visit of a new doctor and patient (times near now would overlap the fixture's)."""
    doctor = make_doctor(name="Dr. Ola Berg")
    patient = make_user(Role.PATIENT, name="Kim Lee")
    return Visit(doctor, patient, video_visit(doctor, patient, **options))
