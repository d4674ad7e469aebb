"""On-demand consults: a patient asks for an urgent video visit in a specialty; on-call
doctors of that specialty see it live; the first to accept gets it, and it becomes a
confirmed video appointment with that doctor starting now.

"Exactly one doctor wins" is a conditional UPDATE (`... WHERE status = 'waiting'`): the row
lock it takes makes every other accept wait, and when the winner commits they find the row
no longer waiting and get ConsultTaken (409), never a second appointment. "One open request
per patient" is a partial unique index. The checks before them give the clear messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.extensions import db
from app.models import (
    Appointment,
    Consult,
    ConsultStatus,
    Doctor,
    PaymentMethod,
    Specialty,
)
from app.services import access, audit
from app.services.consults import holds
from app.services.consults.rules import (
    ConsultAlreadyOpen,
    ConsultClosed,
    ConsultNotFound,
    ConsultTaken,
    NotListed,
    NotOnCall,
    announce,
    check_can_take,
    offered_to,
)
from app.services.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    SpecialtyNotFound,
    parse_choice,
)
from app.services.notifications import outbox
from app.services.payments.cards import CardDeclined
from app.services.payments.settle import PaymentIncomplete, PaymentNotRecorded
from app.services.scheduling import availability, booking
from app.services.transaction import transaction, use_case

MAX_REASON = 500
S = ConsultStatus


def _specialty(specialty: int | str | None) -> Specialty:
    """A specialty by id or slug. Raises SpecialtyNotFound, InvalidInput."""
    if specialty is None or specialty == "":
        raise InvalidInput(gettext("Choose a specialty."), field="specialty")
    if isinstance(specialty, int) or (isinstance(specialty, str) and specialty.isdigit()):
        found = db.session.get(Specialty, int(specialty)) if int(specialty) < 2**31 else None
    else:
        found = db.session.scalar(select(Specialty).where(Specialty.slug == specialty))
    if found is None:
        raise SpecialtyNotFound()
    return found


@use_case
def _open_request(
    *, patient_id: int, specialty: int | str, reason: str | None, method: PaymentMethod, now
) -> Consult:
    booking.require_patient(patient_id, gettext("Only patients can ask for a consult."))
    found = _specialty(specialty)
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(
            gettext("The reason is at most %(MAX_REASON)s characters.", MAX_REASON=MAX_REASON),
            field="reason",
        )
    if db.session.scalar(
        select(Consult.id).where(Consult.patient_id == patient_id, Consult.status == S.WAITING)
    ):
        raise ConsultAlreadyOpen()
    config = current_app.config
    consult = Consult(
        patient_id=patient_id,
        specialty_id=found.id,
        reason=reason,
        payment_method=method,
        amount=config["CONSULT_PRICE"],
        currency=config["CONSULT_CURRENCY"],
        status=S.WAITING,
        expires_at=now + timedelta(minutes=config["CONSULT_EXPIRY_MINUTES"]),
        # Cash (or a free consult) goes to the doctors at once; a card once its hold stands.
        offered_at=now if method is PaymentMethod.CASH or not config["CONSULT_PRICE"] else None,
        created_by_id=patient_id,
        updated_by_id=patient_id,
    )
    db.session.add(consult)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # a second request at the same moment: one stands
        raise ConsultAlreadyOpen() from exc
    audit.record(
        "consult.requested",
        actor_id=patient_id,
        target_type="consult",
        target_id=consult.id,
        data={"specialty_id": found.id, "payment_method": method.value},
    )
    announce(consult)
    return consult


@use_case
def _offer(*, consult_id: int, now: datetime) -> Consult:
    """The card hold stands: on-call doctors see the request from now on."""
    consult = db.session.get(Consult, consult_id, with_for_update=True)
    if consult.status is S.WAITING and consult.offered_at is None:
        consult.offered_at = now
        consult.updated_at = now
        announce(consult)
    return consult


def request_consult(
    *,
    patient_id: int,
    specialty: int | str,
    reason: str | None,
    payment_method: PaymentMethod | str,
    now: datetime,
    card_token: str | None = None,
) -> Consult:
    """Ask for an urgent video consult in a specialty. Cash: offered to the on-call doctors at
    once. Card: the price (CONSULT_PRICE) is authorised on the card first (a hold captured at
    accept), and doctors see it once that stands (after the bank's 3-D Secure check, when it
    asks for one: `pending_card_check`, `confirm_card_check`); if it fails the request is
    withdrawn and nothing is held.

    Raises Forbidden (not a patient), EmailNotVerified, SpecialtyNotFound, InvalidInput,
    ConsultAlreadyOpen (409), CardPaymentsOff, CardDeclined (402), PaymentIncomplete,
    PaymentProviderUnavailable (503).
    """
    method = parse_choice(
        PaymentMethod,
        payment_method,
        lazy_gettext("Payment method is cash or card."),
        field="payment_method",
    )
    card = method is PaymentMethod.CARD and current_app.config["CONSULT_PRICE"] > 0
    if card:
        holds.check_card(card_token)
    consult = _open_request(
        patient_id=patient_id, specialty=specialty, reason=reason, method=method, now=now
    )
    if not card:
        return consult
    try:
        intent = holds.place_hold(consult=consult, card_token=card_token)
    except DomainError:
        _withdraw_unheld(consult.id, "card hold failed", now)
        raise
    if intent.status == "requires_action":
        return consult  # waits, shown to nobody, until the payer's page finishes the check
    return _offer(consult_id=consult.id, now=now)


def _withdraw_unheld(consult_id: int, reason: str, now: datetime) -> None:
    _end(consult_id=consult_id, status=S.CANCELLED, reason=reason, now=now)
    release_hold(consult_id=consult_id, now=now)


@dataclass(frozen=True)
class CardCheck:
    """What the payer's page needs to finish the bank's 3-D Secure check (Stripe.js)."""

    client_secret: str
    publishable_key: str | None


def _awaiting_check(consult_id: int, patient_id: int) -> Consult | None:
    consult = db.session.get(Consult, consult_id)
    if consult is None or consult.patient_id != patient_id:
        raise ConsultNotFound()
    unheld = consult.status is S.WAITING and consult.offered_at is None
    return consult if unheld and consult.stripe_payment_intent_id else None


def pending_card_check(*, consult_id: int, patient_id: int) -> CardCheck | None:
    """The 3-D Secure check a card consult still waits for (None: nothing to check).
    Raises ConsultNotFound, PaymentProviderUnavailable."""
    consult = _awaiting_check(consult_id, patient_id)
    if consult is None:
        return None
    intent = holds.check_hold(consult.stripe_payment_intent_id)
    if intent.status != "requires_action" or not intent.client_secret:
        return None
    return CardCheck(intent.client_secret, holds.publishable_key())


def confirm_card_check(*, consult_id: int, patient_id: int, now: datetime) -> Consult:
    """After the bank's check: the hold stands and doctors see the request, or the check
    failed and the request is withdrawn (nothing held).

    Raises ConsultNotFound, PaymentIncomplete (the check is not finished), CardDeclined
    (it failed), PaymentProviderUnavailable.
    """
    consult = _awaiting_check(consult_id, patient_id)
    if consult is None:
        return db.session.get(Consult, consult_id)
    intent = holds.check_hold(consult.stripe_payment_intent_id)
    if intent.status == "requires_capture":
        return _offer(consult_id=consult_id, now=now)
    if intent.status == "requires_action":
        raise PaymentIncomplete(gettext("Please complete the check from your bank first."))
    _withdraw_unheld(consult_id, "card check failed", now)
    raise CardDeclined(intent.error_message or gettext("The check by your bank did not succeed."))


def _end(*, consult_id: int, status: ConsultStatus, reason: str, now: datetime) -> Consult:
    with transaction():
        consult = db.session.get(Consult, consult_id, with_for_update=True)
        if consult.status is S.WAITING:
            _close(consult, status, reason, now)
        return consult


def _close(
    consult: Consult,
    status: ConsultStatus,
    reason: str,
    now: datetime,
    actor_id: int | None = None,
) -> None:
    consult.status = status
    consult.ended_at = now
    consult.end_reason = reason[:255]
    consult.updated_at = now
    if consult.stripe_payment_intent_id is None:
        consult.hold_released_at = now  # nothing held: nothing to release
    audit.record(
        f"consult.{status.value}", actor_id=actor_id, target_type="consult", target_id=consult.id
    )
    announce(consult)


def release_hold(*, consult_id: int, now: datetime) -> None:
    """After the commit that ended a consult: cancel its card hold at Stripe (the expiry job
    retries when Stripe cannot be reached now)."""
    consult = db.session.get(Consult, consult_id)
    open_hold = consult is not None and consult.hold_released_at is None
    intent_id = consult.stripe_payment_intent_id if open_hold else None
    db.session.rollback()
    if intent_id is None:
        return
    if holds.release(intent_id):
        _mark_released(consult_id=consult_id, now=now)


@use_case
def _mark_released(*, consult_id: int, now: datetime) -> None:
    consult = db.session.get(Consult, consult_id, with_for_update=True)
    if consult.hold_released_at is None:
        consult.hold_released_at = now
        audit.record(
            "consult.hold_released", actor_id=None, target_type="consult", target_id=consult_id
        )


def cancel_consult(*, consult_id: int, patient_id: int, now: datetime) -> Consult:
    """The patient withdraws a request nobody accepted yet; its card hold is released.

    Raises ConsultNotFound (not theirs), ConsultTaken (accepted meanwhile), ConsultClosed.
    """
    with transaction():
        consult = db.session.get(Consult, consult_id, with_for_update=True)
        if consult is None or consult.patient_id != patient_id:
            raise ConsultNotFound()
        if consult.status is S.ACCEPTED:
            raise ConsultTaken(
                gettext("A doctor has already accepted this consult: join the visit.")
            )
        if consult.status is not S.WAITING:
            raise ConsultClosed()
        _close(consult, S.CANCELLED, "withdrawn by the patient", now, actor_id=patient_id)
        consult.updated_by_id = patient_id
    release_hold(consult_id=consult_id, now=now)
    return db.session.get(Consult, consult_id)


def accept_consult(*, consult_id: int, doctor_user_id: int, now: datetime) -> Appointment:
    """An on-call doctor of the consult's specialty takes it: in one transaction the consult
    is claimed (only while waiting: exactly one doctor wins), a video slot is opened for the
    doctor now (availability.open_slot_now), the visit is confirmed, and a card hold is
    captured. Either all of it happens or nothing does.

    Raises ConsultNotFound, Forbidden, NotOnCall, WrongSpecialty, CashNotTaken (403),
    ConsultTaken, ConsultClosed, DoctorBusy, OverlappingAppointment (409), HoldEnded (409,
    the consult stays open), PaymentProviderUnavailable (503), PaymentNotRecorded.
    """
    captured = None
    try:
        with transaction():
            doctor = access.doctor_of(access.load_actor(doctor_user_id))
            consult = db.session.get(Consult, consult_id)
            if consult is None or consult.offered_at is None:
                raise ConsultNotFound()
            check_can_take(doctor, consult)
            won = db.session.execute(
                update(Consult)
                .where(
                    Consult.id == consult_id,
                    Consult.status == S.WAITING,
                    Consult.expires_at > now,
                )
                .values(
                    status=S.ACCEPTED, accepted_by_id=doctor.id, accepted_at=now, updated_at=now
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            db.session.refresh(consult)
            if not won:
                if consult.status is S.ACCEPTED:
                    raise ConsultTaken()
                raise ConsultClosed(gettext("This consult request has expired or was withdrawn."))
            slot = availability.open_slot_now(
                doctor_id=doctor.id,
                minutes=current_app.config["CONSULT_MINUTES"],
                actor_id=doctor_user_id,
                now=now,
            )
            appointment = booking.book_visit_now(
                slot=slot,
                patient_id=consult.patient_id,
                payment_method=consult.payment_method,
                fee_amount=consult.amount,
                fee_currency=consult.currency,
                notes=consult.reason,
                actor_id=doctor_user_id,
                now=now,
            )
            consult.appointment_id = appointment.id
            consult.updated_by_id = doctor_user_id
            db.session.flush()
            if consult.stripe_payment_intent_id is not None:
                holds.capture_for(consult, appointment, now)
                captured = consult.stripe_payment_intent_id
            audit.record(
                "consult.accepted",
                actor_id=doctor_user_id,
                target_type="consult",
                target_id=consult.id,
                data={"appointment_id": appointment.id},
            )
            outbox.notify(
                consult.patient,
                "consult.accepted",
                key=f"consult:{consult.id}:accepted",
                data={"consult_id": consult.id, "appointment_id": appointment.id},
            )
            announce(consult)
    except SQLAlchemyError as exc:
        if captured is None:
            raise
        # Captured at Stripe, but the visit could not be recorded: no visit, no charge.
        holds.refund_uncommitted_capture(captured)
        _end(consult_id=consult_id, status=S.CANCELLED, reason="payment not recorded", now=now)
        raise PaymentNotRecorded(
            gettext("The consult could not be recorded, so the patient's payment was refunded.")
        ) from exc
    return db.session.get(Appointment, appointment.id)


@use_case
def expire_lapsed(*, now: datetime) -> int:
    """End every request nobody accepted within CONSULT_EXPIRY_MINUTES; the patient is told.
    Safe side by side (rows another run or an accept holds are skipped). Returns how many."""
    lapsed = db.session.scalars(
        select(Consult)
        .where(Consult.status == S.WAITING, Consult.expires_at <= now)
        .with_for_update(skip_locked=True)
    ).all()
    for consult in lapsed:
        _close(consult, S.EXPIRED, "nobody accepted in time", now)
        outbox.notify(
            consult.patient,
            "consult.expired",
            key=f"consult:{consult.id}:expired",
            data={"consult_id": consult.id},
        )
    return len(lapsed)


def release_ended_holds(*, now: datetime) -> int:
    """Cancel the card holds of consults that expired or were withdrawn (and any a failed
    release left open). Returns how many were released."""
    pending = holds.unreleased_holds()
    db.session.rollback()
    released = 0
    for consult_id, intent_id in pending:
        if holds.release(intent_id):
            _mark_released(consult_id=consult_id, now=now)
            released += 1
    return released


def expire(*, now: datetime) -> tuple[int, int]:
    """The periodic job: (requests expired, holds released)."""
    return expire_lapsed(now=now), release_ended_holds(now=now)


# --- reading and on call ---------------------------------------------------------------------


def get_consult(*, consult_id: int, viewer_id: int, now: datetime) -> Consult:
    """A consult its patient, its doctor, or a doctor who may take it now may see.
    Raises ConsultNotFound otherwise (no leak)."""
    viewer = access.load_actor(viewer_id)
    consult = db.session.get(Consult, consult_id)
    if consult is None:
        raise ConsultNotFound()
    if consult.patient_id == viewer.id or access.has_permission(viewer, "bookings.view"):
        return consult
    doctor = access.doctor_of(viewer)
    if doctor is not None and consult.accepted_by_id == doctor.id:
        return consult
    offered = consult.status is S.WAITING and consult.offered_at is not None
    if doctor is not None and offered and consult.expires_at > now:
        try:
            check_can_take(doctor, consult)
        except DomainError:
            raise ConsultNotFound() from None
        return consult
    raise ConsultNotFound()


def patient_consults(*, patient_id: int, limit: int = 20) -> list[Consult]:
    return list(
        db.session.scalars(
            select(Consult)
            .where(Consult.patient_id == patient_id)
            .order_by(Consult.created_at.desc(), Consult.id.desc())
            .limit(limit)
        )
    )


def open_consult(*, patient_id: int) -> Consult | None:
    """The patient's request still waiting, if any."""
    return db.session.scalar(
        select(Consult).where(Consult.patient_id == patient_id, Consult.status == S.WAITING)
    )


def _doctor(doctor_user_id: int) -> Doctor:
    doctor = access.doctor_of(access.load_actor(doctor_user_id))
    if doctor is None:
        raise Forbidden(gettext("Only doctors go on call."))
    return doctor


def offered_consults(*, doctor_user_id: int, now: datetime) -> list[Consult]:
    """The requests an on-call doctor may take now, oldest first. Raises NotOnCall."""
    doctor = _doctor(doctor_user_id)
    if not doctor.on_call:
        raise NotOnCall()
    return list(db.session.scalars(offered_to(doctor, now)))


def doctor_panel(*, doctor_id: int, now: datetime) -> tuple[bool, list[Consult]]:
    """For the doctor's dashboard: (on call, the requests they may take now)."""
    doctor = db.session.get(Doctor, doctor_id)
    if doctor is None or not doctor.on_call:
        return False, []
    return True, list(db.session.scalars(offered_to(doctor, now)))


@use_case
def set_on_call(*, doctor_user_id: int, on_call: bool, now: datetime) -> Doctor:
    """A doctor switches on call (takes consults of their specialties) or off.
    Raises Forbidden (not a doctor), NotListed (an incomplete or unverified profile)."""
    doctor = _doctor(doctor_user_id)
    if on_call and not access.is_listed(doctor):
        raise NotListed()
    if doctor.on_call != on_call:
        doctor.on_call = on_call
        doctor.updated_by_id = doctor_user_id
        doctor.updated_at = now
        audit.record(
            "doctor.on_call" if on_call else "doctor.off_call",
            actor_id=doctor_user_id,
            target_type="doctor",
            target_id=doctor.id,
        )
    return doctor
