"""The one transaction rule: a use case commits once on success, rolls back on any error,
joins an enclosing use case, and commits a refusal it records when told to."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from app.services.errors import Conflict
from app.services.transaction import transaction, use_case
from tests.factories import make_user


def _names() -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(User.name)))


@use_case
def rename(user_id: int, name: str, *, fail: bool = False) -> None:
    db.session.get(User, user_id).name = name
    if fail:
        raise Conflict("refused")


def test_success_commits_and_an_error_rolls_back(ctx):
    user = make_user(Role.PATIENT, name="Ana")
    db.session.commit()
    rename(user.id, "Bea")
    assert _names() == ["Bea"]
    with pytest.raises(Conflict):
        rename(user.id, "Cid", fail=True)
    assert _names() == ["Bea"]


def test_a_use_case_inside_another_joins_it(ctx):
    user = make_user(Role.PATIENT, name="Ana")
    db.session.commit()
    with pytest.raises(Conflict), transaction():
        rename(user.id, "Bea")  # would commit on its own
        raise Conflict("the outer use case refuses")
    assert _names() == ["Ana"]


def test_a_recorded_refusal_is_committed_then_raised(ctx):
    user = make_user(Role.PATIENT, name="Ana")
    db.session.commit()
    with pytest.raises(Conflict), transaction(commit_on=(Conflict,)):
        db.session.get(User, user.id).name = "Attempt recorded"
        raise Conflict("refused, but the attempt stays on record")
    assert _names() == ["Attempt recorded"]
