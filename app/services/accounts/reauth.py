"""Recent authentication: changing a password, email, phone or 2FA first asks for the current
password or a fresh code. The time of that check travels with the browser session."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext

from app.services.errors import Forbidden

REAUTH_WINDOW = timedelta(minutes=10)


class ReauthenticationRequired(Forbidden):
    code = "reauthentication_required"
    default_message = lazy_gettext("Please confirm it is you first: enter your password or a code.")


def is_recent(reauthenticated_at: datetime | None, now: datetime) -> bool:
    """Did the user prove themselves within the last window?"""
    return reauthenticated_at is not None and now - REAUTH_WINDOW <= reauthenticated_at <= now


def require_recent_auth(reauthenticated_at: datetime | None, now: datetime) -> None:
    """Raises ReauthenticationRequired unless the user proved themselves in the last window."""
    if not is_recent(reauthenticated_at, now):
        raise ReauthenticationRequired()
