"""Accounts: creating users, password hashing and sign-in."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Clinic, Doctor, PatientProfile, Role, User
from app.services import audit
from app.services.errors import Conflict, DomainError, Forbidden, InvalidInput

# argon2-cffi's defaults are argon2id with the RFC 9106 "low memory" profile.
_hasher = PasswordHasher()
# Verifying against this keeps the time of a failed sign-in the same for unknown emails.
_DUMMY_HASH = _hasher.hash("carebook-timing-equaliser")

MIN_PASSWORD_LENGTH = 8


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"
    default_message = "Email or password is incorrect."


class AccountInactive(Forbidden):
    code = "account_inactive"
    default_message = "This account has been deactivated."


class AccountExists(Conflict):
    code = "account_exists"
    default_message = "An account with that email already exists."


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email: str) -> str:
    """Validate an address's syntax and return it lower-cased. Raises InvalidInput."""
    try:
        valid = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"Invalid email address: {exc}", field="email") from exc
    return valid.normalized.lower()


def normalize_phone(phone: str | None) -> str | None:
    """Return the number in E.164, or None when empty. Raises InvalidInput."""
    if not phone or not phone.strip():
        return None
    try:
        parsed = phonenumbers.parse(phone.strip(), None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            "Phone numbers are written in international form, e.g. +14155550123.", field="phone"
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput("That phone number is not valid.", field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def create_user(
    *,
    email: str,
    role: Role | str,
    password: str | None,
    name: str | None = None,
    phone: str | None = None,
    clinic_id: int | None = None,
    actor_id: int | None = None,
) -> User:
    """Create an active account ready to sign in; a doctor also gets a doctor profile.

    Raises InvalidInput (bad email, phone, role, short password, unknown clinic) and
    AccountExists.
    """
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidInput(f"Unknown role {role!r}.", field="role") from exc
    email = normalize_email(email)
    phone = normalize_phone(phone)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Passwords have at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    if clinic_id is not None and db.session.get(Clinic, clinic_id) is None:
        raise InvalidInput(f"There is no clinic {clinic_id}.", field="clinic_id")
    user = User(
        email=email,
        name=(name or email.split("@")[0]).strip(),
        phone=phone,
        role=role,
        password_hash=hash_password(password) if password else None,
        created_by_id=actor_id,
    )
    db.session.add(user)
    if role is Role.DOCTOR:
        clinic = db.session.get(Clinic, clinic_id) if clinic_id else None
        db.session.add(
            Doctor(
                user=user,
                clinic_id=clinic_id,
                fee_currency=clinic.currency if clinic else "USD",
                created_by_id=actor_id,
            )
        )
    elif role is Role.PATIENT:
        db.session.add(PatientProfile(user=user, created_by_id=actor_id))
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise AccountExists() from exc
    audit.record(
        "user.created",
        actor_id=actor_id,
        target_type="user",
        target_id=user.id,
        data={"role": role.value},
    )
    db.session.commit()
    return user


def authenticate(email: str, password: str, *, now: datetime, ip: str | None = None) -> User:
    """Check an email and password; record the attempt in the audit trail.

    Raises InvalidCredentials (unknown email or wrong password, indistinguishable) and
    AccountInactive (right password, deactivated account).
    """
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not verify_password(user.password_hash, password or ""):
        audit.record(
            "auth.sign_in_failed",
            actor_id=user.id if user else None,
            data={"email": email},
            ip=ip,
        )
        db.session.commit()
        raise InvalidCredentials()
    if not user.is_active:
        audit.record("auth.sign_in_refused_inactive", actor_id=user.id, ip=ip)
        db.session.commit()
        raise AccountInactive()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    audit.record("auth.sign_in", actor_id=user.id, ip=ip)
    db.session.commit()
    return user


def get_active_user(user_id: int) -> User | None:
    """The user for a session or token, or None when unknown or deactivated."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None
