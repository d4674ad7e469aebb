"""A locking read returns the row as it is once locked (services/transaction.py), even when
the session loaded the object before: a check made under the lock never reads stale values."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Role, User
from tests.factories import make_user


@pytest.mark.parametrize("how", ["select", "get"])
def test_a_locking_read_refreshes_what_the_session_loaded_before(ctx, how):
    user = make_user(Role.PATIENT, name="Before")
    user_id = user.id
    assert db.session.get(User, user_id).name == "Before"  # loaded, and kept in the session
    with db.engine.connect() as other:  # another transaction changes the row meanwhile
        other.execute(text("UPDATE users SET name = 'After' WHERE id = :id"), {"id": user_id})
        other.commit()
    if how == "select":
        locked = db.session.scalar(select(User).where(User.id == user_id).with_for_update())
    else:
        locked = db.session.get(User, user_id, with_for_update=True)
    assert locked is user and locked.name == "After"
