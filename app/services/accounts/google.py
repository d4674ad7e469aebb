"""Sign in with Google: which Carebook account an OpenID Connect identity opens.

The provider's `sub` is the link (users.google_sub). An unknown identity with a verified email
becomes a patient account. When an account with that email already exists, it is linked only
after the person proves it by signing in to it with its password: an email match alone never
opens an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Role, User
from app.services import audit
from app.services.accounts import accounts
from app.services.errors import Conflict, Forbidden
from app.services.transaction import use_case

# How long a person has to enter their password after coming back from Google.
PENDING_LINK_TTL = timedelta(minutes=10)


class EmailNotVerified(Forbidden):
    code = "google_email_not_verified"
    default_message = lazy_gettext("Google has not verified the email address of that account.")


class GoogleAccountTaken(Conflict):
    code = "google_account_taken"
    default_message = lazy_gettext(
        "That Carebook account is already linked to another Google account."
    )


class LinkExpired(Conflict):
    code = "google_link_expired"
    default_message = lazy_gettext(
        "The request to link Google has expired. Please sign in with Google again."
    )


@dataclass(frozen=True)
class GoogleIdentity:
    """The checked claims of a provider's ID token."""

    sub: str
    email: str | None
    email_verified: bool
    name: str | None

    @classmethod
    def from_claims(cls, claims: dict) -> GoogleIdentity:
        verified = claims.get("email_verified")
        return cls(
            sub=str(claims["sub"]),
            email=(claims.get("email") or "").strip().lower() or None,
            # Some providers send the flag as a string.
            email_verified=verified is True or str(verified).lower() == "true",
            name=(claims.get("name") or "").strip() or None,
        )


@dataclass(frozen=True)
class PendingLink:
    """An account waiting for its owner's password before Google is linked to it."""

    user_id: int
    email: str
    sub: str
    expires_at: float  # POSIX timestamp

    def to_session(self) -> dict:
        return {
            "user_id": self.user_id,
            "email": self.email,
            "sub": self.sub,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_session(cls, data: object) -> PendingLink | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                user_id=int(data["user_id"]),
                email=str(data["email"]),
                sub=str(data["sub"]),
                expires_at=float(data["expires_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class GoogleSignIn:
    """Either `user` (signed in) or `pending` (prove the existing account first)."""

    user: User | None = None
    pending: PendingLink | None = None


@use_case(commit_on=(EmailNotVerified, accounts.AccountInactive))
def sign_in_with_google(identity: GoogleIdentity, *, now: datetime, ip: str | None) -> GoogleSignIn:
    """Find or create the account of a verified Google identity.

    Raises AccountInactive, EmailNotVerified (new or unlinked identity without a verified
    email; both recorded and committed first), GoogleAccountTaken (the account with that
    email is linked to another `sub`), AccountExists (the same identity signing up twice at
    once).
    """
    user = db.session.scalar(select(User).where(User.google_sub == identity.sub))
    if user is not None:
        return GoogleSignIn(user=_signed_in(user, now=now, ip=ip))
    if not identity.email or not identity.email_verified:
        audit.record(
            "auth.google_refused_unverified", actor_id=None, data={"sub": identity.sub}, ip=ip
        )
        raise EmailNotVerified()
    existing = db.session.scalar(select(User).where(User.email == identity.email))
    if existing is not None and existing.email_verified_at is None and existing.google_sub is None:
        # An unconfirmed registration of this address: Google has just proven the inbox, so
        # the account is this person's, and what the registration set up is dropped.
        accounts.claim_email(existing, identity.email, keep_password=False, now=now, ip=ip)
        existing.google_sub = identity.sub
        return GoogleSignIn(user=_signed_in(existing, now=now, ip=ip))
    if existing is not None:
        if existing.google_sub is not None:
            raise GoogleAccountTaken()
        audit.record(
            "auth.google_link_pending",
            actor_id=existing.id,
            target_type="user",
            target_id=existing.id,
            ip=ip,
        )
        return GoogleSignIn(
            pending=PendingLink(
                user_id=existing.id,
                email=existing.email,
                sub=identity.sub,
                expires_at=(now + PENDING_LINK_TTL).timestamp(),
            )
        )
    return GoogleSignIn(user=_create_patient(identity, now=now, ip=ip))


def complete_link(pending: PendingLink, password: str, *, now: datetime, ip: str | None) -> User:
    """Link Google to the pending account once its password is proven; the user is signed in.

    Raises LinkExpired (too late, or the account changed meanwhile), InvalidCredentials,
    AccountInactive (from accounts.authenticate, recorded and committed) and
    GoogleAccountTaken.
    """
    if now.timestamp() > pending.expires_at:
        raise LinkExpired()
    try:
        return _link(pending, password, now=now, ip=ip)
    except IntegrityError as exc:  # that Google account was linked elsewhere meanwhile
        raise GoogleAccountTaken() from exc


# A refusal after the password check keeps what the check recorded, as a refused password does.
@use_case(commit_on=(*accounts.SIGN_IN_REFUSALS, LinkExpired, GoogleAccountTaken))
def _link(pending: PendingLink, password: str, *, now: datetime, ip: str | None) -> User:
    user = accounts.authenticate(pending.email, password, now=now, ip=ip)
    if user.id != pending.user_id:
        raise LinkExpired()
    if user.google_sub not in (None, pending.sub):
        raise GoogleAccountTaken()
    user.google_sub = pending.sub
    user.updated_by_id = user.id
    audit.record(
        "auth.google_linked",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        ip=ip,
    )
    db.session.flush()  # a clash on google_sub surfaces inside the use case, which rolls back
    return user


@use_case
def record_refusal(reason: str, *, ip: str | None) -> None:
    """Keep a refused provider response (bad state, signature, issuer, audience, nonce...) in
    the audit trail: a run of these is worth a look."""
    audit.record("auth.google_refused", actor_id=None, data={"reason": reason[:500]}, ip=ip)


def _signed_in(user: User, *, now: datetime, ip: str | None) -> User:
    if not user.is_active:
        audit.record("auth.sign_in_refused_inactive", actor_id=user.id, ip=ip)
        raise accounts.AccountInactive()
    user.last_login_at = now
    audit.record("auth.sign_in", actor_id=user.id, data={"method": "google"}, ip=ip)
    return user


def _create_patient(identity: GoogleIdentity, *, now: datetime, ip: str | None) -> User:
    user = accounts.build_account(
        email=identity.email or "",
        role=Role.PATIENT,
        name=identity.name,
        email_verified_at=now,  # the provider verified it
        google_sub=identity.sub,
    )
    user.last_login_at = now
    audit.record(
        "user.created",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        data={"role": Role.PATIENT.value, "method": "google"},
        ip=ip,
    )
    audit.record("auth.sign_in", actor_id=user.id, data={"method": "google"}, ip=ip)
    return user
