"""The clinic's late-cancellation refund setting, checked by the directory service and the
database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Role
from app.services import directory
from app.services.errors import InvalidInput
from tests.factories import make_clinic, make_user


def _save(percent, actor):
    return directory.save_clinic(
        directory.ClinicInput(
            name="Policy Clinic", city="Leeds", timezone="Europe/London",
            late_cancellation_refund_percent=percent,
        ),
        actor_id=actor.id, now=datetime.now(UTC), ip=None,
    )  # fmt: skip


def test_percent_is_0_to_100_or_none(ctx):
    admin = make_user(Role.ADMIN)
    for bad in (-1, 101):
        with pytest.raises(InvalidInput, match="between 0 and 100"):
            _save(bad, admin)
    assert _save(None, admin).late_cancellation_refund_percent is None


def test_database_refuses_a_percent_above_100(ctx):
    clinic = make_clinic()
    clinic.late_cancellation_refund_percent = 150
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
