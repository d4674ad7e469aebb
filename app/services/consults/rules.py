"""What every consult use case shares: its errors, who may take a consult (on-call doctors of
its specialty), and telling the live pages about it after the commit (services/realtime).

Events are `consult` to user rooms: the patient's, and every doctor who may take it. They
carry ids, states and what a doctor needs to decide (specialty, reason), never the patient's
name or contact.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext, lazy_gettext
from sqlalchemy import or_, select, true

from app.extensions import db
from app.models import (
    Clinic,
    Consult,
    ConsultStatus,
    Doctor,
    PaymentMethod,
    Specialty,
    User,
)
from app.services import access, realtime
from app.services.errors import Conflict, Forbidden, NotFound

EVENT = "consult"


class ConsultNotFound(NotFound):
    code = "consult_not_found"
    default_message = lazy_gettext("There is no such consult request.")


class ConsultTaken(Conflict):
    code = "consult_taken"
    default_message = lazy_gettext("Another doctor has just taken this consult.")


class ConsultClosed(Conflict):
    code = "consult_closed"
    default_message = lazy_gettext("This consult request is no longer waiting.")


class ConsultAlreadyOpen(Conflict):
    code = "consult_open"
    default_message = lazy_gettext(
        "You already have a consult request waiting: cancel it to ask again."
    )


class NotOnCall(Forbidden):
    code = "not_on_call"
    default_message = lazy_gettext("Switch yourself on call to take consults.")


class WrongSpecialty(Forbidden):
    code = "wrong_specialty"
    default_message = lazy_gettext("This consult is for a specialty you do not practise.")


class CashNotTaken(Forbidden):
    code = "payment_method_unavailable"
    default_message = lazy_gettext("This consult is paid in cash, which your clinic does not take.")


class NotListed(Conflict):
    code = "not_listed"
    default_message = lazy_gettext(
        "Your profile is not complete or not verified yet, so you cannot go on call."
    )


def visit_path(appointment_id: int) -> str:
    """Where both sides meet for the video visit (the visits area's room page)."""
    return f"/visits/{appointment_id}"


def _can_take(consult_payment_method):
    """SQL: a doctor's clinic takes the consult's way of paying (cash needs a clinic that
    takes cash; a card hold is good anywhere)."""
    if consult_payment_method is PaymentMethod.CARD:
        return true()
    return or_(Doctor.clinic_id.is_(None), Clinic.accepts_cash.is_(True))


# One rule, three forms (keep them together): eligible_doctors (who hears of a consult),
# offered_to (what a doctor's dashboard lists) and check_can_take (the accept's own check).


def eligible_doctors(consult: Consult):
    """SELECT of the doctors who may take `consult` now: on call, listed, practising its
    specialty, at a clinic that takes its way of paying."""
    return (
        select(Doctor)
        .join(User, Doctor.user_id == User.id)
        .outerjoin(Clinic, Doctor.clinic_id == Clinic.id)
        .where(
            Doctor.on_call.is_(True),
            access.listed_doctor_clause(),
            Doctor.specialties.any(Specialty.id == consult.specialty_id),
            _can_take(consult.payment_method),
        )
    )


def offered_to(doctor: Doctor, now: datetime):
    """SELECT of the consults `doctor` may take now, oldest first."""
    specialty_ids = [s.id for s in doctor.specialties]
    stmt = select(Consult).where(
        Consult.status == ConsultStatus.WAITING,
        Consult.offered_at.is_not(None),
        Consult.expires_at > now,
        Consult.specialty_id.in_(specialty_ids or [-1]),
    )
    if doctor.clinic is not None and not doctor.clinic.accepts_cash:
        stmt = stmt.where(Consult.payment_method == PaymentMethod.CARD)
    return stmt.order_by(Consult.created_at, Consult.id)


def check_can_take(doctor: Doctor | None, consult: Consult) -> Doctor:
    """The doctor may take this consult. Raises NotOnCall, WrongSpecialty, CashNotTaken."""
    if doctor is None:
        raise Forbidden(gettext("Only doctors take consults."))
    if not doctor.on_call or not access.is_listed(doctor):
        raise NotOnCall()
    if consult.specialty_id not in {s.id for s in doctor.specialties}:
        raise WrongSpecialty()
    clinic = doctor.clinic
    if consult.payment_method is PaymentMethod.CASH and clinic and not clinic.accepts_cash:
        raise CashNotTaken()
    return doctor


def doctor_payload(consult: Consult) -> dict:
    """What an on-call doctor's dashboard shows of a request (no patient's name)."""
    return {
        "id": consult.id,
        "status": consult.status.value,
        "specialty": consult.specialty.name,
        "reason": consult.reason,
        "payment_method": consult.payment_method.value,
        "created_at": consult.created_at.isoformat(),
        "expires_at": consult.expires_at.isoformat(),
    }


def patient_payload(consult: Consult) -> dict:
    payload = {"id": consult.id, "status": consult.status.value}
    if consult.appointment_id is not None:
        payload["appointment_id"] = consult.appointment_id
        payload["visit_url"] = visit_path(consult.appointment_id)
    return payload


def announce(consult: Consult) -> None:
    """After the commit: the patient's pages learn the consult's state, and every doctor who
    may take it sees it appear (waiting and offered) or go (taken, expired, cancelled)."""
    realtime.publish(realtime.user_room(consult.patient_id), EVENT, patient_payload(consult))
    if consult.offered_at is None:
        return  # never shown to a doctor: nothing to take back
    doctor_users = set(
        db.session.scalars(eligible_doctors(consult).with_only_columns(Doctor.user_id))
    )
    if consult.accepted_by is not None:
        doctor_users.add(consult.accepted_by.user_id)
    if consult.status is ConsultStatus.WAITING:
        payload = doctor_payload(consult)
    else:
        payload = {"id": consult.id, "status": consult.status.value}
    for user_id in sorted(doctor_users):
        realtime.publish(realtime.user_room(user_id), EVENT, payload)
