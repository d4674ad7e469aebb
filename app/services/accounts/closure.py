"""A patient deletes their account: upcoming visits are cancelled by the clinic's policy, then
the personal data is erased or anonymised in one transaction.

Kept, de-identified (they point at the anonymised user row): appointments as history,
payments and refunds (the clinic's books), the audit trail (the clinic's accountability),
reviews (rating and text, now under "Former patient") and the doctor's side of chats.
Erased: name, email (a unique address under .invalid that can never receive mail), phone,
date of birth, address, insurer, password, Google link, 2FA, sessions, API and refresh
tokens, one-time and recovery codes, consult reasons (a waiting request is withdrawn first),
notifications and their destinations, preferences, the waitlist, the patient's booking
notes, message bodies and attachments (the files too, after the commit).

Staff accounts (doctors, helpers, admins) are not deleted here: their names stand on other
people's records, and an admin closes them (deactivation).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext, lazy_gettext
from sqlalchemy import String, cast, delete, or_, select, update

from app.extensions import db
from app.models import (
    Appointment,
    AuditLog,
    Consult,
    ConsultStatus,
    Message,
    Notification,
    NotificationPreference,
    OneTimeCode,
    RecoveryCode,
    RefreshToken,
    Role,
    SignInThrottle,
    User,
    UserSession,
    WaitlistEntry,
)
from app.services import audit
from app.services.accounts import sessions
from app.services.accounts.accounts import verify_password
from app.services.accounts.reauth import require_recent_auth
from app.services.chat import attachments
from app.services.consults import consults
from app.services.errors import Conflict, DomainError, Forbidden, InvalidInput, UserNotFound
from app.services.scheduling import booking
from app.services.scheduling.policy import CHANGEABLE, policy_for
from app.services.transaction import use_case

CONFIRMATION_WORD = "DELETE"
ERASED_NAME = "Former patient"
ERASED_MESSAGE = "(message deleted)"
ERASED_DOMAIN = "deleted.invalid"  # RFC 2606: .invalid never resolves, so never receives mail

_ERASED_VALUE = "[erased]"


def is_deleted(user) -> bool:
    """The account was deleted by its owner (erased and switched off for good): nobody may
    switch it on again, there is nobody behind it any more."""
    return user.email.endswith(f"@{ERASED_DOMAIN}")


class WrongPassword(DomainError):
    status_code = 403
    code = "wrong_password"
    default_message = lazy_gettext("That password is not right: nothing was deleted.")


class StaffAccount(Forbidden):
    code = "staff_account"
    default_message = lazy_gettext(
        "Staff accounts (doctors, helpers, admins) are closed by an administrator of the "
        "clinic, not deleted from the account page."
    )


class VisitCannotBeCancelled(Conflict):
    code = "visit_cannot_be_cancelled"


class BookedMeanwhile(Conflict):
    code = "booked_meanwhile"
    default_message = lazy_gettext(
        "A booking was made while the account was being deleted: try again."
    )


@dataclass(frozen=True)
class ClosedAccount:
    user_id: int
    cancelled: list[int]
    messages_erased: int
    attachments_erased: int


def _upcoming(user_id: int, now: datetime) -> list[Appointment]:
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.patient_id == user_id,
                Appointment.status.in_(CHANGEABLE),
                Appointment.starts_at > now,
            )
            .order_by(Appointment.starts_at)
        )
    )


@use_case(commit_on=(WrongPassword,))
def _check_proof(
    user_id: int,
    *,
    password: str | None,
    confirmation: str | None,
    reauthenticated_at: datetime | None,
    now: datetime,
) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise UserNotFound()
    if user.role is not Role.PATIENT:
        raise StaffAccount()
    if user.password_hash is not None:
        if not password:
            raise InvalidInput(
                gettext("Enter your password to delete the account."), field="password"
            )
        if not verify_password(user.password_hash, password):
            audit.record("account.deletion_refused", actor_id=user.id, data={"why": "password"})
            raise WrongPassword()
    else:
        # Signed up with Google or codes only: a fresh sign-in (a code or Google, on the
        # account page) and the typed word stand in for the password.
        require_recent_auth(reauthenticated_at, now)
        if (confirmation or "").strip() != CONFIRMATION_WORD:
            raise InvalidInput(
                gettext(
                    "Type %(CONFIRMATION_WORD)s to confirm the deletion.",
                    CONFIRMATION_WORD=CONFIRMATION_WORD,
                ),
                field="confirmation",
            )
    for appointment in _upcoming(user.id, now):
        refusal = policy_for(appointment, user, now).cancel_refusal
        if refusal is not None:
            raise VisitCannotBeCancelled(
                gettext(
                    "Your visit on %(when)s UTC can no longer be cancelled online, so the account "
                    "cannot be deleted yet: call the clinic, or delete the account after the "
                    "visit.",
                    when=appointment.starts_at.strftime("%Y-%m-%d %H:%M"),
                )
            )
    return user


def delete_account(
    *,
    user_id: int,
    now: datetime,
    password: str | None = None,
    confirmation: str | None = None,
    reauthenticated_at: datetime | None = None,
) -> ClosedAccount:
    """Delete a patient's account (see the module docstring for what is kept).

    Proof: the password, or for an account without one a recent sign-in and the typed
    word DELETE. Raises WrongPassword (recorded), InvalidInput, ReauthenticationRequired,
    StaffAccount, VisitCannotBeCancelled (nothing is changed by any of them), BookedMeanwhile.
    """
    _check_proof(
        user_id,
        password=password,
        confirmation=confirmation,
        reauthenticated_at=reauthenticated_at,
        now=now,
    )
    # Each cancellation is the scheduling service's own use case: its policy, its refund,
    # and the Stripe call after its commit.
    cancelled = []
    for appointment in _upcoming(user_id, now):
        booking.cancel_appointment(
            appointment_id=appointment.id,
            actor_id=user_id,
            now=now,
            reason="patient deleted their account",
        )
        cancelled.append(appointment.id)
    # A consult request still waiting for a doctor is withdrawn the same way (its card hold
    # released), so that no doctor accepts a visit for an account that is gone.
    for consult_id in db.session.scalars(
        select(Consult.id).where(
            Consult.patient_id == user_id, Consult.status == ConsultStatus.WAITING
        )
    ).all():
        consults.cancel_consult(consult_id=consult_id, patient_id=user_id, now=now)
    closed, keys = _erase(user_id, cancelled, now)
    for key in keys:  # after the commit: no row names these files any more
        attachments.discard(key)
    return closed


@use_case
def _erase(user_id: int, cancelled: list[int], now: datetime) -> tuple[ClosedAccount, list[str]]:
    # The row lock makes a second deletion wait and then find the account gone; a booking
    # inserted meanwhile is seen below (its foreign key check waits for this lock too).
    user = db.session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None or not user.is_active:
        raise UserNotFound()
    if _upcoming(user_id, now):
        raise BookedMeanwhile()
    old = {v for v in (user.email, user.phone, user.name) if v}
    sessions.revoke_user_sessions(user.id, now=now)
    for model in (
        UserSession,
        RefreshToken,
        OneTimeCode,
        RecoveryCode,
        Notification,
        NotificationPreference,
    ):
        db.session.execute(delete(model).where(model.user_id == user.id))
    # A consult's reason is free text about the patient's health.
    db.session.execute(update(Consult).where(Consult.patient_id == user.id).values(reason=None))
    db.session.execute(delete(WaitlistEntry).where(WaitlistEntry.patient_id == user.id))
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.email == user.email))
    db.session.execute(
        update(Appointment).where(Appointment.patient_id == user.id).values(notes=None)
    )
    messages, keys = _erase_messages(user.id)
    profile = user.patient_profile
    if profile is not None:
        profile.date_of_birth = profile.address = None
        profile.insurer = profile.insurance_member_number = None
    user.email = f"deleted-{user.id}-{secrets.token_hex(6)}@{ERASED_DOMAIN}"
    user.name = ERASED_NAME
    user.phone = user.password_hash = user.google_sub = user.totp_secret = None
    user.locale = user.browser_locale = None
    user.totp_last_counter = user.last_login_at = None
    user.email_verified_at = user.phone_verified_at = None
    user.is_active = False
    user.updated_by_id = user.id
    _scrub_audit(user.id, old)
    audit.record(
        "account.deleted",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        data={"cancelled": cancelled, "messages_erased": messages, "attachments_erased": len(keys)},
    )
    return ClosedAccount(user.id, cancelled, messages, len(keys)), keys


def _erase_messages(user_id: int) -> tuple[int, list[str]]:
    keys = list(
        db.session.scalars(
            select(Message.attachment_key).where(
                Message.sender_id == user_id, Message.attachment_key.is_not(None)
            )
        )
    )
    erased = db.session.execute(
        update(Message)
        .where(Message.sender_id == user_id)
        .values(
            body=ERASED_MESSAGE,
            attachment_key=None,
            attachment_name=None,
            attachment_type=None,
            attachment_size=None,
        )
    ).rowcount
    return erased, keys


def _scrub_audit(user_id: int, old: set[str]) -> None:
    """Earlier entries keep what was done and when, not who in clear: values equal to the
    erased name, email or phone are replaced (e.g. the email a failed sign-in typed)."""
    if not old:
        return
    as_text = cast(AuditLog.data, String)
    rows = db.session.scalars(
        select(AuditLog).where(
            or_(
                AuditLog.actor_id == user_id,
                (AuditLog.target_type == "user") & (AuditLog.target_id == str(user_id)),
                *(as_text.contains(value, autoescape=True) for value in old),
            )
        )
    )
    for entry in rows:
        scrubbed = _scrubbed(entry.data, old)
        if scrubbed != entry.data:
            entry.data = scrubbed


def _scrubbed(value, old: set[str]):
    if isinstance(value, dict):
        return {k: _scrubbed(v, old) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, old) for v in value]
    if isinstance(value, str) and (value in old or value.lower() in old):
        return _ERASED_VALUE
    return value
