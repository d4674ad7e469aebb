"""Readiness: can this process reach what it depends on?"""

from __future__ import annotations

import redis
from sqlalchemy import text

from app.extensions import db


def check_readiness(redis_url: str | None) -> dict[str, str]:
    """Return {"database": "ok"|error, "redis": "ok"|error} (redis only when configured)."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the message says which
        db.session.rollback()
        checks["database"] = f"unavailable: {type(exc).__name__}"
    if redis_url:
        try:
            client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
            client.ping()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            checks["redis"] = f"unavailable: {type(exc).__name__}"
    return checks
