"""Server-side sessions: a browser is signed in while its user_sessions row is live.

The cookie carries a random token; the table keeps its hash, when it was last seen and when it
ends. Signing out, deactivation and password changes revoke rows, which ends those sessions on
their next request wherever the cookie is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import User, UserSession
from app.services import audit, realtime
from app.services.accounts import refresh_tokens
from app.services.transaction import transaction, use_case

# last_seen_at is written at most this often, not on every request.
_TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@use_case
def start_session(
    user_id: int,
    *,
    now: datetime,
    absolute_hours: int,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """Open a session for a user who has just signed in; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user_id,
            token_hash=_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=absolute_hours),
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    return token


def user_for_session(
    user_id: int, token: str | None, *, now: datetime, idle_minutes: int, touch: bool = True
) -> User | None:
    """The active user of a live session, or None (unknown, revoked, idle or too old).
    `touch=False` for requests a page makes by itself (a poll): they do not count as
    activity, so an open tab still signs out when idle."""
    if not token:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    if (
        row is None
        or row.user_id != user_id
        or row.revoked_at is not None
        or row.expires_at <= now
        or row.last_seen_at + timedelta(minutes=idle_minutes) <= now
    ):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    if touch and now - row.last_seen_at >= _TOUCH_EVERY:
        with transaction():
            row.last_seen_at = now
    return user


@use_case
def end_session(token: str | None, *, now: datetime) -> None:
    """Sign-out: the session's row is revoked."""
    if not token:
        return
    user_id = db.session.scalar(
        update(UserSession)
        .where(UserSession.token_hash == _hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(UserSession.user_id)
    )
    if user_id is not None:
        # The user's other browsers connect again and are let back in; this one is not.
        realtime.disconnect_user(user_id)


def revoke_api_tokens(user_id: int, *, now: datetime) -> None:
    """Every API token issued to the user so far stops working (access tokens by
    token_version, refresh tokens by their rows), and the sockets opened with one (or with a
    session) are ended after the commit. Does not commit."""
    db.session.execute(
        update(User).where(User.id == user_id).values(token_version=User.token_version + 1)
    )
    refresh_tokens.revoke_all_for_user(user_id, now=now)
    realtime.disconnect_user(user_id)


def revoke_user_sessions(user_id: int, *, now: datetime, keep_token: str | None = None) -> int:
    """End every way the user is signed in: each live browser session (but `keep_token`'s)
    and every API token issued so far. Adds to the caller's transaction; does not commit.
    Returns how many sessions were revoked."""
    revoke_api_tokens(user_id, now=now)
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_token:
        query = query.where(UserSession.token_hash != _hash(keep_token))
    return db.session.execute(query.values(revoked_at=now)).rowcount


@use_case
def sign_out_other_sessions(
    user_id: int, *, keep_token: str | None, now: datetime, ip: str | None = None
) -> int:
    """Sign the user out on every other browser; returns how many sessions ended."""
    count = revoke_user_sessions(user_id, now=now, keep_token=keep_token)
    audit.record("auth.signed_out_elsewhere", actor_id=user_id, data={"sessions": count}, ip=ip)
    return count


def live_sessions(user_id: int, *, now: datetime, idle_minutes: int) -> list[UserSession]:
    """The user's sessions that are still signed in, newest first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
                UserSession.last_seen_at > now - timedelta(minutes=idle_minutes),
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def is_current(row: UserSession, token: str | None) -> bool:
    return bool(token) and row.token_hash == _hash(token)


# Naming a browser from its User-Agent header, by hand: the `user-agents` package is not
# installed and its regex data would be one more thing to keep current; people only need
# "Chrome on Windows" to recognise their own devices. Order matters: Edge and Opera also say
# Chrome, Chrome also says Safari, Android also says Linux, iOS browsers also say Safari.
_BROWSERS = (
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/"),
    ("Safari", r"Version/[\d.]+.*Safari/"),
)
_SYSTEMS = (
    ("iOS", r"iPhone|iPad|iPod"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Macintosh|Mac OS X"),
    ("Linux", r"Linux|X11"),
)


def browser_name(user_agent: str | None) -> str:
    """ "Chrome on Windows", "Safari on iOS", ... from a User-Agent header; "Unknown browser"
    when nothing in it is recognised."""
    text = user_agent or ""
    browser = next((name for name, p in _BROWSERS if re.search(p, text)), None)
    system = next((name for name, p in _SYSTEMS if re.search(p, text)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return "Unknown browser"
