"""How a sign-in ends in the browser: a new session (cookie and server-side row), or a stop at
the second factor. Shared by the password, code, 2FA and registration pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask_login import login_user, logout_user

from app.i18n import visitor_locale
from app.models import Role, User
from app.services.accounts import profile, sessions

SECOND_FACTOR_WINDOW = timedelta(minutes=5)


def now() -> datetime:
    """The moment of this request, one for all of it: the re-authentication window that
    fresh_auth_required checks is then the one the service checks."""
    if "carebook_now" not in g:
        g.carebook_now = datetime.now(UTC)
    return g.carebook_now


def client_ip() -> str | None:
    return request.remote_addr


HOMES = {
    Role.DOCTOR: "doctor.dashboard",
    Role.ADMIN: "admin.index",
    Role.HELPER: "admin.index",
    Role.PATIENT: "main.home",
}


def home_for(user: User | None) -> str:
    """Where a role lands after signing in: a doctor on their dashboard, staff on the admin
    panel (which asks for 2FA enrolment first where it is required), a patient on search."""
    return url_for(HOMES.get(user.role, "main.home") if user is not None else "main.home")


def safe_next(target: str | None, user: User | None = None) -> str:
    """Only same-site relative paths are followed after sign-in; otherwise the user's home."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return home_for(user)


def finish(user: User, next_url: str | None = None):
    """The first factor passed: sign in, or ask for the authenticator-app code first."""
    if user.totp_secret:
        session.clear()
        session["second_factor"] = {"uid": user.id, "at": now().timestamp(), "next": next_url}
        return redirect(url_for("auth.second_factor"))
    start(user)
    return redirect(safe_next(next_url, user))


def start(user: User) -> None:
    """A fresh session: the old cookie's contents are dropped, a server-side row opened."""
    moment = now()
    session.clear()
    token = sessions.start_session(
        user.id,
        now=moment,
        absolute_hours=current_app.config["SESSION_ABSOLUTE_HOURS"],
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent"),
    )
    session["sid"] = token
    # Signing in is a fresh proof of identity for the sensitive settings.
    session["reauth_at"] = moment.timestamp()
    login_user(user)
    # Mail and texts follow the account's language, else the one this browser asks for.
    profile.remember_browser_locale(user.id, visitor_locale())


def pending_second_factor() -> dict | None:
    pending = session.get("second_factor")
    if not isinstance(pending, dict):
        return None
    started = datetime.fromtimestamp(pending.get("at", 0), UTC)
    if now() - started > SECOND_FACTOR_WINDOW:
        session.pop("second_factor", None)
        return None
    return pending


def end() -> None:
    sessions.end_session(session.get("sid"), now=now())
    logout_user()
    session.clear()


def reauthenticated_at() -> datetime | None:
    value = session.get("reauth_at")
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else None


def mark_reauthenticated(moment: datetime) -> None:
    session["reauth_at"] = moment.timestamp()


def attempt(name: str) -> str | None:
    """The id of a code attempt kept in this browser's session."""
    value = session.get(f"attempt_{name}")
    return value if isinstance(value, str) else None


def remember_attempt(name: str, attempt_id: str) -> None:
    session[f"attempt_{name}"] = attempt_id


def forget_attempt(name: str) -> None:
    session.pop(f"attempt_{name}", None)


def session_token() -> str | None:
    value = session.get("sid")
    return value if isinstance(value, str) else None
