"""Recording the audit trail. `record` adds to the caller's transaction; it never commits."""

from __future__ import annotations

from app.extensions import db
from app.models import AuditLog


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
        ip=ip,
    )
    db.session.add(entry)
    return entry
