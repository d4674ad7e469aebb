"""Reading the directory: specialties and clinics."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Clinic, Specialty


def list_specialties() -> list[Specialty]:
    return list(db.session.scalars(select(Specialty).order_by(Specialty.name)))


def list_clinics() -> list[Clinic]:
    return list(db.session.scalars(select(Clinic).order_by(Clinic.name)))
