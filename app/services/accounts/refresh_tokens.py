"""API refresh tokens: long-lived, random, stored only as a SHA-256 hash, rotated on use.

A sign-in through POST /api/v1/auth/token starts a family; each refresh retires the token it is
given and issues its child in the same family (rotation). A retired token presented again means
two parties hold it, so the whole family is revoked (reuse detection, OAuth 2.0 Security BCP
§4.14): the thief's and the owner's tokens die together. Access tokens carry their family id and
stop working when it is revoked (tokens.user_for_token).

Helpers here add to the caller's transaction and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext
from sqlalchemy import exists, func, select, update

from app.extensions import db
from app.models import RefreshToken
from app.services import audit, realtime
from app.services.errors import DomainError


class InvalidRefreshToken(DomainError):
    status_code = 401
    code = "invalid_refresh_token"
    default_message = lazy_gettext("The refresh token is invalid, expired or revoked.")


class RefreshTokenReused(InvalidRefreshToken):
    """A retired token came back: its family has been revoked (and that is committed)."""


@dataclass(frozen=True)
class Rotation:
    user_id: int
    family_id: str
    token: str


@dataclass(frozen=True)
class ApiSession:
    """A live refresh token family, as the account page lists it."""

    family_id: str
    client: str | None
    created_at: datetime
    last_used_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _add(
    user_id: int,
    *,
    family_id: str,
    parent_id: int | None,
    client: str | None,
    now: datetime,
    ttl: timedelta,
) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id,
            parent_id=parent_id,
            token_hash=_hash(token),
            client=(client or "")[:255] or None,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def start_family(
    user_id: int, *, client: str | None, now: datetime, ttl: timedelta
) -> tuple[str, str]:
    """A new family for a sign-in; returns (family id, refresh token)."""
    family_id = secrets.token_hex(16)
    return family_id, _add(
        user_id, family_id=family_id, parent_id=None, client=client, now=now, ttl=ttl
    )


def rotate(token: str, *, now: datetime, ttl: timedelta, ip: str | None = None) -> Rotation:
    """Retire `token` and issue its child. One conditional UPDATE claims the token, so of two
    requests racing with the same token exactly one gets the child (the other blocks on the row
    until the first commits, then finds it retired: reuse). Raises InvalidRefreshToken (unknown,
    expired, revoked), RefreshTokenReused (retired: the family is revoked)."""
    claimed = db.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == _hash(token),
            RefreshToken.retired_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(retired_at=now, last_used_at=now)
        .returning(
            RefreshToken.id, RefreshToken.user_id, RefreshToken.family_id, RefreshToken.client
        )
    ).one_or_none()
    if claimed is None:
        old = db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash(token)))
        if old is not None and old.retired_at is not None and old.revoked_at is None:
            revoke_family(old.family_id, now=now)
            audit.record(
                "api.refresh_token_reused",
                actor_id=None,
                target_type="user",
                target_id=old.user_id,
                data={"family": old.family_id},
                ip=ip,
            )
            raise RefreshTokenReused()
        raise InvalidRefreshToken()
    child = _add(
        claimed.user_id,
        family_id=claimed.family_id,
        parent_id=claimed.id,
        client=claimed.client,
        now=now,
        ttl=ttl,
    )
    return Rotation(user_id=claimed.user_id, family_id=claimed.family_id, token=child)


def revoke_family(family_id: str, *, now: datetime) -> int:
    """Every token of the family (and the access tokens issued with them) stops working."""
    user_id = db.session.scalar(
        select(RefreshToken.user_id).where(RefreshToken.family_id == family_id).limit(1)
    )
    count = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    if user_id is not None and count:
        realtime.disconnect_user(user_id)  # sockets opened with the family's access tokens
    return count


def revoke_by_token(token: str, *, now: datetime) -> None:
    """POST /auth/revoke: the family of a known token is revoked; an unknown one is ignored."""
    family_id = db.session.scalar(
        select(RefreshToken.family_id).where(RefreshToken.token_hash == _hash(token))
    )
    if family_id is not None:
        revoke_family(family_id, now=now)


def revoke_all_for_user(user_id: int, *, now: datetime) -> int:
    return db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount


def revoke_user_family(user_id: int, family_id: str, *, now: datetime) -> bool:
    """The account page's "Revoke": only a family of the user's own. True if it was live."""
    owned = db.session.scalar(
        select(
            exists().where(
                RefreshToken.family_id == family_id,
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
            )
        )
    )
    return bool(owned) and revoke_family(family_id, now=now) > 0


def family_revoked(family_id: str) -> bool:
    """One indexed lookup (family_id) per request made with an access token of a family."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None)
                )
            )
        )
    )


def live_families(user_id: int, *, now: datetime) -> list[ApiSession]:
    """The user's API sessions: families whose current token is still usable, newest use
    first. A family's last use is when its current token was issued."""
    started = (
        select(RefreshToken.family_id, func.min(RefreshToken.created_at).label("started"))
        .where(RefreshToken.user_id == user_id)
        .group_by(RefreshToken.family_id)
        .subquery()
    )
    rows = db.session.execute(
        select(RefreshToken, started.c.started)
        .join(started, started.c.family_id == RefreshToken.family_id)
        .where(
            RefreshToken.user_id == user_id,
            RefreshToken.retired_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .order_by(RefreshToken.created_at.desc())
    )
    return [
        ApiSession(
            family_id=row.family_id,
            client=row.client,
            created_at=started_at,
            last_used_at=row.created_at,
        )
        for row, started_at in rows
    ]
