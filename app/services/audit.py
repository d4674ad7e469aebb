"""The audit trail: `record` adds to the caller's transaction (it never commits); `search`
reads it for the admin pages.

Every entry carries the client address of the request it was made in: the web layer names it
once per request (`client_address`, set by app/requestlog.py), so no use case needs an `ip`
parameter to be traced; an explicit `ip` still wins.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import AuditLog, User
from app.services import like

# The address of the client whose request is being served (None outside a request).
client_address: ContextVar[str | None] = ContextVar("audit_client_address", default=None)


def record(
    action: str,
    *,
    actor_id: int | None,
    target_type: str | None = None,
    target_id: int | str | None = None,
    data: dict | None = None,
    ip: str | None = None,
) -> AuditLog:
    entry = AuditLog(
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        data=data or {},
        ip=ip or client_address.get(),
    )
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None  # part of the actor's name or email
    action: str | None = None  # exact, or a prefix ending in "." (e.g. "admin.")
    target_type: str | None = None
    target_id: str | None = None
    since: date | None = None  # inclusive, UTC days
    until: date | None = None  # inclusive


def search(query: AuditQuery, *, page: int = 1, per_page: int = 50) -> Pagination:
    """The audit trail matching `query`, newest first."""
    statement = (
        select(AuditLog)
        .options(joinedload(AuditLog.actor))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
    )
    if query.actor and query.actor.strip():
        statement = statement.join(AuditLog.actor).where(
            or_(
                like.contains(User.email, query.actor, ignore_case=False),
                like.contains(User.name, query.actor),
            )
        )
    if query.action and query.action.strip():
        action = query.action.strip()
        if action.endswith("."):
            statement = statement.where(AuditLog.action.startswith(action, autoescape=True))
        else:
            statement = statement.where(AuditLog.action == action)
    if query.target_type and query.target_type.strip():
        statement = statement.where(AuditLog.target_type == query.target_type.strip())
    if query.target_id and query.target_id.strip():
        statement = statement.where(AuditLog.target_id == query.target_id.strip())
    if query.since:
        statement = statement.where(AuditLog.at >= datetime.combine(query.since, time(0), UTC))
    if query.until:
        end = datetime.combine(query.until + timedelta(days=1), time(0), UTC)
        statement = statement.where(AuditLog.at < end)
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)
