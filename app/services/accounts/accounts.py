"""Accounts: building users (build_account, the one builder), registration and verification,
password hashing and sign-in (by password or by a one-time code). Password links live in
accounts/passwords.py, email and phone changes in accounts/contacts.py, 2FA in
accounts/two_factor.py; switching an account on or off is staff.set_active.

Each public use case commits once (services/transaction.py); a message (email, SMS) goes out
only after the commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import phonenumbers
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext, lazy_gettext
from sqlalchemy import null, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Clinic, CodeChannel, CodePurpose, Doctor, PatientProfile, Role, User
from app.services import audit
from app.services.accounts import codes, sessions, throttle
from app.services.errors import Conflict, DomainError, Forbidden, InvalidInput, parse_choice
from app.services.notifications import outbox
from app.services.transaction import transaction, use_case

# argon2-cffi's defaults are argon2id with the RFC 9106 "low memory" profile.
_hasher = PasswordHasher()
# Verifying against this keeps the time of a failed sign-in the same for unknown emails.
_DUMMY_HASH = _hasher.hash("carebook-timing-equaliser")

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"
    default_message = lazy_gettext("Email or password is incorrect.")


class AccountInactive(Forbidden):
    code = "account_inactive"
    default_message = lazy_gettext("This account has been deactivated.")


class AccountExists(Conflict):
    code = "account_exists"
    default_message = lazy_gettext("An account with that email already exists.")


class AccountNotVerified(Forbidden):
    code = "account_not_verified"
    default_message = lazy_gettext(
        "Please confirm your email address first: enter the code we emailed you (Account → Verify)."
    )


class EmailNotConfirmed(Forbidden):
    code = "email_not_confirmed"
    default_message = lazy_gettext(
        "This email address is not confirmed yet. Finish the registration with the code we "
        "emailed, or sign in with a new code sent to your email."
    )


# The refusals of a password sign-in that are recorded before they are raised.
SIGN_IN_REFUSALS = (InvalidCredentials, AccountInactive, EmailNotConfirmed)


def require_verified(user: User) -> None:
    """Booking needs a verified account. Raises AccountNotVerified."""
    if user.email_verified_at is None:
        raise AccountNotVerified()


def check_password_rules(password: str | None, field: str = "password") -> str:
    """Raises InvalidInput for a password that is too short or too long."""
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            gettext(
                "Passwords have at least %(MIN_PASSWORD_LENGTH)s characters.",
                MIN_PASSWORD_LENGTH=MIN_PASSWORD_LENGTH,
            ),
            field=field,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            gettext(
                "Passwords have at most %(MAX_PASSWORD_LENGTH)s characters.",
                MAX_PASSWORD_LENGTH=MAX_PASSWORD_LENGTH,
            ),
            field=field,
        )
    return password


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
        raise InvalidInput(
            gettext("Invalid email address: %(exc)s", exc=exc), field="email"
        ) from exc
    return valid.normalized.lower()


def normalize_phone(phone: str | None) -> str | None:
    """Return the number in E.164, or None when empty. Raises InvalidInput."""
    if not phone or not phone.strip():
        return None
    try:
        parsed = phonenumbers.parse(phone.strip(), None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            gettext("Phone numbers are written in international form, e.g. +14155550123."),
            field="phone",
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(gettext("That phone number is not valid."), field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def build_account(
    *,
    email: str,
    role: Role | str,
    name: str | None,
    email_verified_at: datetime | None,
    phone: str | None = None,
    phone_verified_at: datetime | None = None,
    password_hash: str | None = None,
    clinic_id: int | None = None,
    actor_id: int | None = None,
    must_change_password: bool = False,
    google_sub: str | None = None,
) -> User:
    """The one way an account is built: a user with the profile its role needs (a doctor
    profile at the clinic, in its currency; a patient profile), added and flushed. Adds to the
    caller's use case; does not commit.

    Raises InvalidInput (email, phone, role, unknown clinic) and AccountExists.
    """
    role = parse_choice(Role, role, f"Unknown role {role!r}.", field="role")
    email = normalize_email(email)
    clinic = None
    if clinic_id is not None:
        clinic = db.session.get(Clinic, clinic_id)
        if clinic is None:
            raise InvalidInput(
                gettext("There is no clinic %(clinic_id)s.", clinic_id=clinic_id), field="clinic_id"
            )
    user = User(
        email=email,
        name=((name or "").strip() or email.split("@")[0])[:120],
        phone=normalize_phone(phone),
        phone_verified_at=phone_verified_at,
        # null(), not None: None would let the column's "verified" default fill it in.
        email_verified_at=email_verified_at if email_verified_at is not None else null(),
        role=role,
        password_hash=password_hash,
        must_change_password=must_change_password,
        google_sub=google_sub,
        created_by_id=actor_id,
    )
    db.session.add(user)
    if role is Role.DOCTOR:
        db.session.add(
            Doctor(
                user=user,
                clinic=clinic,
                fee_currency=clinic.currency if clinic else "USD",
                created_by_id=actor_id,
            )
        )
    elif role is Role.PATIENT:
        db.session.add(PatientProfile(user=user, created_by_id=actor_id))
    try:
        db.session.flush()
    except IntegrityError as exc:  # the email (or Google account) is taken; the use case rolls back
        raise AccountExists() from exc
    return user


@use_case
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
    if password is not None:
        check_password_rules(password)
    phone = normalize_phone(phone)
    moment = datetime.now(UTC)
    user = build_account(
        email=email,
        role=role,
        name=name,
        phone=phone,
        # An address typed in by an admin (or the CLI) is taken as verified.
        email_verified_at=moment,
        phone_verified_at=moment if phone else None,
        password_hash=hash_password(password) if password else None,
        clinic_id=clinic_id,
        actor_id=actor_id,
    )
    audit.record(
        "user.created",
        actor_id=actor_id,
        target_type="user",
        target_id=user.id,
        data={"role": user.role.value},
    )
    return user


@use_case(commit_on=SIGN_IN_REFUSALS)
def authenticate(email: str, password: str, *, now: datetime, ip: str | None = None) -> User:
    """Check an email and password; record the attempt in the audit trail.

    Raises InvalidCredentials (unknown email or wrong password, indistinguishable),
    AccountInactive (right password, deactivated account), EmailNotConfirmed and
    SignInThrottled (429: too many wrong passwords for this address lately, web and API
    together; wait, or use a code). The refusals in SIGN_IN_REFUSALS are recorded (audited,
    counted) and committed before they are raised: a use case that calls this one commits on
    them too.
    """
    email = (email or "").strip().lower()
    throttle.check(email, now)
    user = db.session.scalar(select(User).where(User.email == email))
    # One hash check whether or not the address has an account (or a password): the time
    # of the answer must not tell which emails are registered.
    password_ok = verify_password(user.password_hash if user else None, password or "")
    if user is None or not password_ok:
        audit.record(
            "auth.sign_in_failed",
            actor_id=user.id if user else None,
            data={"email": email},
            ip=ip,
        )
        throttle.record_failure(email, now)
        raise InvalidCredentials()
    if not user.is_active:
        audit.record("auth.sign_in_refused_inactive", actor_id=user.id, ip=ip)
        raise AccountInactive()
    if user.email_verified_at is None:
        # Anyone can register an address they do not own: until its inbox answers, the
        # password chosen at registration opens nothing.
        audit.record("auth.sign_in_refused_unverified", actor_id=user.id, ip=ip)
        raise EmailNotConfirmed()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _first_factor_passed(user, "password", now=now, ip=ip)
    return user


def _first_factor_passed(user: User, method: str, *, now: datetime, ip: str | None) -> None:
    """A signed-in user, or one who still owes the authenticator-app code (two_factor.verify
    records the sign-in then). Either way the wrong-password count of the address ends."""
    throttle.clear(user.email)
    if user.totp_secret:
        audit.record("auth.first_factor_passed", actor_id=user.id, data={"method": method}, ip=ip)
        return
    user.last_login_at = now
    audit.record("auth.sign_in", actor_id=user.id, data={"method": method}, ip=ip)


@dataclass
class Registration:
    """What a registration did; the same for a new address and one already in use, so that
    the page cannot tell who has an account. `user_id` is None when the address was taken."""

    user_id: int | None
    email: str
    sent: bool


def registration_problems(
    *, name: str | None, email: str | None, phone: str | None, password: str | None
) -> dict[str, str]:
    """Every rule register_patient checks on its input, at once: each failing field with its
    message, in form order (empty when the input is acceptable). Raises nothing."""
    checks = {
        "name": lambda: _check_name(name),
        "email": lambda: normalize_email(email or ""),
        "phone": lambda: normalize_phone(phone),
        "password": lambda: check_password_rules(password),
    }
    problems = {}
    for field, check in checks.items():
        try:
            check()
        except InvalidInput as exc:
            problems[field] = exc.message
    return problems


def _check_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(gettext("Please tell us your name."), field="name")
    return name


def register_patient(
    *,
    name: str,
    email: str,
    phone: str | None,
    password: str,
    attempt_id: str,
    now: datetime,
    ip: str | None = None,
) -> Registration:
    """A person opens a patient account; a code goes to the email (and one to the phone).

    The account is unverified, and nobody is signed in, until the email code comes back
    (confirm_registration). An address that already has an account gets a note instead ("was
    this you? sign in or reset your password"), and the answer looks the same. An abandoned
    unverified registration of the same address is taken over: only the holder of the inbox
    can finish it. The account is committed before any message goes out. Raises InvalidInput.
    """
    problems = registration_problems(name=name, email=email, phone=phone, password=password)
    if problems:
        field, message = next(iter(problems.items()))
        raise InvalidInput(message, field=field, fields=problems)
    email = normalize_email(email)
    phone = normalize_phone(phone)
    name = name.strip()
    password_hash = hash_password(password)  # hashed either way: the same time for both answers
    try:
        user_id = _open_registration(
            name=name, email=email, phone=phone, password_hash=password_hash, ip=ip
        )
    except AccountExists:  # the same address registered a moment ago: answer as if taken
        return Registration(None, email, True)
    if user_id is None:
        return Registration(None, email, _tell_holder_of(email, now))
    try:
        send_verification_codes(user_id, attempt_id=attempt_id, now=now, ip=ip)
    except codes.CodeNotSent:
        return Registration(user_id, email, False)  # the codes can be sent again
    return Registration(user_id, email, True)


@use_case
def _open_registration(
    *, name: str, email: str, phone: str | None, password_hash: str, ip: str | None
) -> int | None:
    """The account of a registration (new, or an abandoned unverified one taken over); None
    when the address belongs to a verified account. Raises AccountExists (a race)."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and user.email_verified_at is not None:
        audit.record("account.registration_for_existing", target_type="user", target_id=user.id,
                     actor_id=None, ip=ip)  # fmt: skip
        return None
    if user is None:
        user = build_account(
            email=email, role=Role.PATIENT, name=name, phone=phone, email_verified_at=None
        )
    user.name, user.phone, user.password_hash = name[:120], phone, password_hash
    user.phone_verified_at = None
    db.session.flush()
    user.created_by_id = user.created_by_id or user.id
    audit.record(
        "account.registered", actor_id=user.id, target_type="user", target_id=user.id, ip=ip
    )
    return user.id


def _tell_holder_of(email: str, now: datetime) -> bool:
    """The note to an address that has an account already (through the outbox)."""
    with transaction():
        holder = db.session.scalar(select(User).where(User.email == email))
        if holder is not None:
            outbox.notify(
                holder,
                "account.registration_attempt",
                key=f"account:{holder.id}:registration-attempt:{now.isoformat()}",
            )
    return True


@use_case(commit_on=(codes.InvalidCode,))
def confirm_registration(
    *,
    user_id: int | None,
    attempt_id: str | None,
    code: str,
    now: datetime,
    ip: str | None = None,
) -> User:
    """Finish a registration with the code emailed to it: the email is confirmed and the
    account may sign in. Raises InvalidCode, also when the address had an account already (a
    wrong guess is counted and committed)."""
    if user_id is None:
        codes.consume(attempt_id=None, purpose=CodePurpose.VERIFY_EMAIL, code=code, now=now)
    row = codes.consume(
        attempt_id=attempt_id,
        purpose=CodePurpose.VERIFY_EMAIL,
        code=code,
        now=now,
        user_id=user_id,
        ip=ip,
    )
    user = db.session.get(User, user_id)
    # The password stays: it was chosen in this flow (a later registration of the address
    # retires this code, codes.issue). Anything signed in before now is ended.
    claim_email(user, row.destination, keep_password=True, now=now, ip=ip)
    _first_factor_passed(user, "registration", now=now, ip=ip)
    return user


def claim_email(
    user: User, address: str, *, keep_password: bool, now: datetime, ip: str | None
) -> None:
    """The holder of `address` has just proven it (a code sent there, a reset link, a provider
    that verified it). If it is the account's email and not confirmed yet, it is confirmed,
    and whatever someone else may have set up before (a password chosen at an unconfirmed
    registration, sessions, API tokens) is dropped, unless `keep_password`: the password was
    chosen in this very flow. Adds to the caller's use case; does not commit."""
    if address != user.email or user.email_verified_at is not None:
        return
    user.email_verified_at = now
    if not keep_password:
        user.password_hash = None
    sessions.revoke_user_sessions(user.id, now=now)
    audit.record(
        "account.email_verified",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        data={"password_kept": keep_password},
        ip=ip,
    )


def send_verification_codes(
    user_id: int, *, attempt_id: str, now: datetime, ip: str | None = None
) -> None:
    """Send a code to each contact of the account that is not verified yet (each code is
    committed before it is sent: call this outside a use case).

    Raises codes.CodeNotSent.
    """
    user = db.session.get(User, user_id)
    unconfirmed = (
        (CodePurpose.VERIFY_EMAIL, CodeChannel.EMAIL, user.email, user.email_verified_at),
        (CodePurpose.VERIFY_PHONE, CodeChannel.SMS, user.phone, user.phone_verified_at),
    )
    for purpose, channel, destination, verified_at in unconfirmed:
        if destination and verified_at is None:
            codes.issue(
                user,
                purpose=purpose,
                channel=channel,
                destination=destination,
                attempt_id=attempt_id,
                now=now,
                ip=ip,
            )


@use_case(commit_on=(codes.InvalidCode,))
def verify_contact(
    user_id: int,
    *,
    channel: CodeChannel,
    attempt_id: str | None,
    code: str,
    now: datetime,
    ip: str | None = None,
) -> User:
    """Confirm the account's email (or phone) with the code sent to it. Raises InvalidCode
    (a wrong guess is counted and committed)."""
    purpose = CodePurpose.VERIFY_PHONE if channel is CodeChannel.SMS else CodePurpose.VERIFY_EMAIL
    row = codes.consume(
        attempt_id=attempt_id, purpose=purpose, code=code, now=now, user_id=user_id, ip=ip
    )
    user = db.session.get(User, user_id)
    if channel is CodeChannel.SMS:
        if row.destination == user.phone:
            user.phone_verified_at = now
        action = "account.phone_verified"
    else:
        if row.destination == user.email:
            user.email_verified_at = now
        action = "account.email_verified"
    audit.record(action, actor_id=user.id, target_type="user", target_id=user.id, ip=ip)
    return user


def request_sign_in_code(
    email: str,
    *,
    channel: CodeChannel,
    attempt_id: str,
    now: datetime,
    ip: str | None = None,
) -> None:
    """Send a sign-in code by email, or by SMS to the account's verified phone.

    Says nothing about whether the account exists: unknown, deactivated or phone-less
    accounts get no code and no error. Raises InvalidInput (a malformed email) and
    codes.CodeNotSent (delivery failed).
    """
    email = normalize_email(email)
    with transaction():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None or not user.is_active:
            audit.record("auth.code_not_sent", actor_id=None, data={"email": email}, ip=ip)
            return
        if channel is CodeChannel.SMS and (not user.phone or user.phone_verified_at is None):
            audit.record(
                "auth.code_not_sent", actor_id=user.id, data={"reason": "no_verified_phone"}, ip=ip
            )
            return
    # Outside the transaction: the code is committed, then sent.
    codes.issue(
        user,
        purpose=CodePurpose.SIGN_IN,
        channel=channel,
        destination=user.phone if channel is CodeChannel.SMS else user.email,
        attempt_id=attempt_id,
        now=now,
        ip=ip,
    )


@use_case(commit_on=(codes.InvalidCode, AccountInactive))
def sign_in_with_code(
    attempt_id: str | None, code: str, *, now: datetime, ip: str | None = None
) -> User:
    """Sign in with the code sent for this attempt. An emailed code also verifies the email.

    Raises codes.InvalidCode and AccountInactive (the code is used up either way).
    """
    row = codes.consume(
        attempt_id=attempt_id, purpose=CodePurpose.SIGN_IN, code=code, now=now, ip=ip
    )
    user = db.session.get(User, row.user_id)
    if not user.is_active:
        raise AccountInactive()
    if row.channel is CodeChannel.EMAIL:
        # A password set before the inbox was proven was not necessarily set by its holder.
        claim_email(user, row.destination, keep_password=False, now=now, ip=ip)
    _first_factor_passed(user, f"code_{row.channel.value}", now=now, ip=ip)
    return user


def request_reauth_code(
    user_id: int, *, attempt_id: str, now: datetime, ip: str | None = None
) -> None:
    """Email the signed-in user a code to confirm a sensitive change. Raises
    codes.CodeNotSent."""
    user = db.session.get(User, user_id)
    codes.issue(
        user,
        purpose=CodePurpose.REAUTH,
        channel=CodeChannel.EMAIL,
        destination=user.email,
        attempt_id=attempt_id,
        now=now,
        ip=ip,
    )


@use_case(commit_on=(InvalidCredentials, codes.InvalidCode))
def reauthenticate(
    user_id: int,
    *,
    now: datetime,
    password: str | None = None,
    attempt_id: str | None = None,
    code: str | None = None,
    ip: str | None = None,
) -> datetime:
    """Prove it is still the account holder, by password or by a code from
    request_reauth_code. Returns the time to remember. Raises InvalidCredentials, InvalidCode
    (both recorded and committed first).
    """
    user = db.session.get(User, user_id)
    if password is not None:
        if not verify_password(user.password_hash, password):
            audit.record("auth.reauth_failed", actor_id=user.id, ip=ip)
            raise InvalidCredentials(gettext("That password is not right."))
    else:
        codes.consume(
            attempt_id=attempt_id,
            purpose=CodePurpose.REAUTH,
            code=code or "",
            now=now,
            user_id=user.id,
            ip=ip,
        )
    audit.record("auth.reauthenticated", actor_id=user.id, ip=ip)
    return now


def get_active_user(user_id: int) -> User | None:
    """The user for a session or token, or None when unknown or deactivated."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None
