"""A user's copy of their data: everything Carebook holds about them, as one JSON document.

What is left out, on purpose: password hashes, authenticator secrets, hashes of session
tokens and codes (secrets, not data about the person), other patients' data (so a staff
member's copy has no conversations and no notification details), the bytes of chat
attachments (their name, type and size are listed) and doctors' private visit notes (the
clinic's medical record, kept for the doctor; services/scheduling/visit_notes.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Appointment,
    AuditLog,
    Consult,
    Conversation,
    Doctor,
    Message,
    Notification,
    NotificationPreference,
    Payment,
    RefreshToken,
    Review,
    Role,
    User,
    UserSession,
    WaitlistEntry,
)
from app.services import audit
from app.services.errors import UserNotFound
from app.services.transaction import use_case

FORMAT_VERSION = 1


def _when(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "role": user.role.value,
        "created_at": _when(user.created_at),
        "last_login_at": _when(user.last_login_at),
        "email_verified_at": _when(user.email_verified_at),
        "phone_verified_at": _when(user.phone_verified_at),
        "has_password": user.password_hash is not None,
        "google_linked": user.google_sub is not None,
        "two_factor_enabled": user.two_factor_enabled,
        "permissions": sorted(user.permission_names),
        "language": user.locale,  # None: the browser's
        "browser_language": user.browser_locale,  # at the last sign-in
    }


def _profile(user: User) -> dict[str, Any] | None:
    profile = user.patient_profile
    if profile is None:
        return None
    return {
        "date_of_birth": _when(profile.date_of_birth),
        "address": profile.address,
        "insurer": profile.insurer,
        "insurance_member_number": profile.insurance_member_number,
    }


def _doctor_profile(user: User) -> dict[str, Any] | None:
    doctor = db.session.scalar(select(Doctor).where(Doctor.user_id == user.id))
    if doctor is None:
        return None
    return {
        "id": doctor.id,
        "clinic": doctor.clinic.name if doctor.clinic else None,
        "licence_number": doctor.licence_number,
        "bio": doctor.bio,
        "fee_amount": doctor.fee_amount,
        "fee_currency": doctor.fee_currency,
        "specialties": [s.name for s in doctor.specialties],
        "has_photo": doctor.photo_hash is not None,
    }


def _appointments(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Appointment)
        .where(Appointment.patient_id == user_id)
        .order_by(Appointment.starts_at, Appointment.id)
        .options(selectinload(Appointment.doctor).selectinload(Doctor.user))
    )
    return [
        {
            "id": a.id,
            "doctor": a.doctor.user.name,
            "clinic": a.doctor.clinic.name if a.doctor.clinic else None,
            "starts_at": _when(a.starts_at),
            "ends_at": _when(a.ends_at),
            "status": a.status.value,
            "notes": a.notes,
            "payment_method": a.payment_method.value,
            "fee_amount": a.fee_amount,
            "fee_currency": a.fee_currency,
            "booked_at": _when(a.created_at),
            "confirmed_at": _when(a.confirmed_at),
            "cancelled_at": _when(a.cancelled_at),
            "cancellation_reason": a.cancellation_reason,
            "rescheduled_from_id": a.rescheduled_from_id,
        }
        for a in rows
    ]


def _payments(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Payment)
        .join(Payment.appointment)
        .where(Appointment.patient_id == user_id)
        .order_by(Payment.id)
        .options(selectinload(Payment.refunds))
    )
    return [
        {
            "id": p.id,
            "appointment_id": p.appointment_id,
            "provider": p.provider.value,
            "amount": p.amount,
            "currency": p.currency,
            "status": p.status.value,
            "amount_captured": p.amount_captured,
            "amount_refunded": p.amount_refunded,
            "captured_at": _when(p.captured_at),
            "created_at": _when(p.created_at),
            "refunds": [
                {"id": r.id, "amount": r.amount, "reason": r.reason, "at": _when(r.created_at)}
                for r in p.refunds
            ],
        }
        for p in rows
    ]


def _message(message: Message, user_id: int) -> dict[str, Any]:
    attachment = None
    if message.attachment_key is not None:
        attachment = {
            "name": message.attachment_name,
            "type": message.attachment_type,
            "size": message.attachment_size,
        }
    return {
        "id": message.id,
        "from_me": message.sender_id == user_id,
        "sender": message.sender.name,
        "body": message.body,
        "attachment": attachment,
        "sent_at": _when(message.created_at),
        "read_at": _when(message.read_at),
    }


def _conversations(user: User) -> list[dict[str, Any]]:
    # A patient's own conversations; a doctor's side of theirs is their patients' data (the
    # clinic's record), so it is not in a doctor's copy.
    conversations = db.session.scalars(
        select(Conversation).where(Conversation.patient_id == user.id).order_by(Conversation.id)
    ).all()
    result = []
    for conversation in conversations:
        messages = db.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.id)
            .options(selectinload(Message.sender))
        )
        result.append(
            {
                "id": conversation.id,
                "patient": conversation.patient.name,
                "doctor": conversation.doctor.user.name,
                "started_at": _when(conversation.created_at),
                "messages": [_message(m, user.id) for m in messages],
            }
        )
    return result


def _notifications(user_id: int, *, with_data: bool) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
    )
    # What a staff member was told names patients (who booked, who wrote): kind and times only.
    return [
        {
            "id": n.id,
            "channel": n.channel.value,
            "kind": n.kind,
            "destination": n.destination,
            "data": n.data if with_data else None,
            "status": n.status.value,
            "created_at": _when(n.created_at),
            "sent_at": _when(n.sent_at),
            "read_at": _when(n.read_at),
        }
        for n in rows
    ]


def _preferences(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    return [
        {"category": p.category, "channel": p.channel.value, "enabled": p.enabled} for p in rows
    ]


def _reviews(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Review).where(Review.patient_id == user_id).order_by(Review.id)
    )
    return [
        {
            "id": r.id,
            "appointment_id": r.appointment_id,
            "rating": r.rating,
            "comment": r.comment,
            "written_at": _when(r.created_at),
            "edited_at": _when(r.edited_at),
            "doctor_reply": r.reply,
            "hidden": r.hidden_at is not None,
        }
        for r in rows
    ]


def _sessions(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
    )
    return [
        {
            "id": s.id,
            "started_at": _when(s.created_at),
            "last_seen_at": _when(s.last_seen_at),
            "expires_at": _when(s.expires_at),
            "revoked_at": _when(s.revoked_at),
            "ip": s.ip,
            "user_agent": s.user_agent,
        }
        for s in rows
    ]


def _waitlist(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.patient_id == user_id).order_by(WaitlistEntry.id)
    )
    return [
        {"doctor": e.doctor.user.name, "day": _when(e.day), "joined_at": _when(e.created_at)}
        for e in rows
    ]


def _consults(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Consult).where(Consult.patient_id == user_id).order_by(Consult.id)
    )
    return [
        {
            "id": c.id,
            "specialty": c.specialty.name,
            "reason": c.reason,
            "payment_method": c.payment_method.value,
            "status": c.status.value,
            "asked_at": _when(c.created_at),
            "accepted_at": _when(c.accepted_at),
            "appointment_id": c.appointment_id,
        }
        for c in rows
    ]


def _api_sessions(user_id: int) -> list[dict[str, Any]]:
    # The programs signed in to the API (refresh token families); never a token or its hash.
    rows = db.session.scalars(
        select(RefreshToken).where(RefreshToken.user_id == user_id).order_by(RefreshToken.id)
    )
    return [
        {
            "family": r.family_id,
            "client": r.client,
            "created_at": _when(r.created_at),
            "last_used_at": _when(r.last_used_at),
            "expires_at": _when(r.expires_at),
            "retired_at": _when(r.retired_at),
            "revoked_at": _when(r.revoked_at),
        }
        for r in rows
    ]


def _activity(user_id: int) -> list[dict[str, Any]]:
    # What the user did, not the details other people's entries may hold.
    rows = db.session.scalars(
        select(AuditLog).where(AuditLog.actor_id == user_id).order_by(AuditLog.at, AuditLog.id)
    )
    return [{"action": e.action, "at": _when(e.at), "ip": e.ip} for e in rows]


@use_case
def export_data(*, user_id: int, now: datetime) -> dict[str, Any]:
    """Everything held about the user, as JSON-ready values; the export is audited.

    Raises UserNotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    document = {
        "format_version": FORMAT_VERSION,
        "exported_at": _when(now),
        "account": _account(user),
        "patient_profile": _profile(user),
        "doctor_profile": _doctor_profile(user),
        "appointments": _appointments(user.id),
        "payments": _payments(user.id),
        "conversations": _conversations(user),
        "notifications": _notifications(user.id, with_data=user.role is Role.PATIENT),
        "notification_preferences": _preferences(user.id),
        "reviews": _reviews(user.id),
        "waitlist": _waitlist(user.id),
        "consults": _consults(user.id),
        "sessions": _sessions(user.id),
        "api_sessions": _api_sessions(user.id),
        "activity": _activity(user.id),
    }
    audit.record("account.exported", actor_id=user.id, target_type="user", target_id=user.id)
    return document
