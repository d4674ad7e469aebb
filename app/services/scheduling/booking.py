"""Booking: hold a slot, confirm, cancel, reschedule, approve, complete; the waitlist.

"A slot is booked by exactly one patient" is the partial unique index on active appointments;
"a patient is never in two places at once" is the patient-overlap constraint. The checks here
come first only to give clear messages: under a race the database decides, and the loser gets
SlotUnavailable (409), never a 500.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    PaymentMethod,
    Role,
    Slot,
    SlotStatus,
    User,
    WaitlistEntry,
    occupies_slot,
)
from app.services import access, audit, notifications
from app.services.accounts import accounts
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.localtime import zone

HOLD_MINUTES = 5
# How long a card request may wait for the doctor: Stripe keeps an authorisation for 7 days.
APPROVAL_WAIT = timedelta(days=6)
ALTERNATIVES_SHOWN = 5
WAITLIST_TOLD_PER_SLOT = 5

S = AppointmentStatus
CHANGEABLE = (S.PENDING_PAYMENT, S.PENDING_APPROVAL, S.CONFIRMED)


class SlotUnavailable(Conflict):
    code = "slot_unavailable"
    default_message = "Sorry, that slot was just taken. Please pick another time."


class SlotNotFound(NotFound):
    code = "slot_not_found"
    default_message = "There is no such slot."


class AppointmentNotFound(NotFound):
    code = "appointment_not_found"
    default_message = "There is no such appointment."


class BookingLimitReached(Conflict):
    code = "booking_limit_reached"
    default_message = "You have as many upcoming appointments as one patient can hold."


class OverlappingAppointment(Conflict):
    code = "overlapping_appointment"
    default_message = "You already have an appointment at that time."


class PolicyWindowClosed(Conflict):
    code = "policy_window_closed"


class InvalidTransition(Conflict):
    code = "invalid_status"


class PaymentMethodUnavailable(InvalidInput):
    code = "payment_method_unavailable"


def _constraint(exc: IntegrityError) -> str:
    """Which constraint refused a write (PostgreSQL names it; SQLite describes it)."""
    diag = getattr(exc.orig, "diag", None)
    return (getattr(diag, "constraint_name", None) or str(exc.orig)).lower()


def _raise_for_integrity(exc: IntegrityError, slot: Slot, now: datetime):
    name = _constraint(exc)
    db.session.rollback()
    if "patient" in name:
        raise OverlappingAppointment() from exc
    raise SlotUnavailable(alternatives=free_alternatives(slot.doctor_id, now, exclude=slot.id))


def free_alternatives(doctor_id: int, now: datetime, *, exclude: int | None = None) -> list:
    """The next few free slots of a doctor, as dicts for a message or a JSON body."""
    from app.services.scheduling.search import free_slots_query

    stmt = free_slots_query(doctor_id, now).limit(ALTERNATIVES_SHOWN + 1)
    slots = [s for s in db.session.scalars(stmt) if s.id != exclude][:ALTERNATIVES_SHOWN]
    return [
        {"id": s.id, "start": s.start_at.isoformat(), "end": s.end_at.isoformat()} for s in slots
    ]


def _expire_lapsed_holds(now: datetime, *conditions) -> None:
    db.session.execute(
        update(Appointment)
        .where(
            Appointment.status == S.PENDING_PAYMENT,
            Appointment.hold_expires_at <= now,
            *conditions,
        )
        .values(status=S.EXPIRED, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _patient(patient_id: int) -> User:
    patient = access.load_actor(patient_id)
    if patient.role is not Role.PATIENT:
        raise Forbidden("Only patients can book appointments.")
    accounts.require_verified(patient)
    return patient


def _overlapping(patient_id: int, slot: Slot, now: datetime, exclude: int | None = None) -> bool:
    stmt = select(Appointment.id).where(
        Appointment.patient_id == patient_id,
        occupies_slot(now),
        Appointment.starts_at < slot.end_at,
        Appointment.ends_at > slot.start_at,
    )
    if exclude is not None:
        stmt = stmt.where(Appointment.id != exclude)
    return db.session.scalar(stmt.limit(1)) is not None


def _check_booking_caps(patient_id: int, doctor_id: int, now: datetime) -> None:
    """One patient cannot book out a doctor's week: upcoming active appointments (holds
    included) are capped in all and per doctor. The patient's row is locked first, so that two
    bookings at once cannot both pass the count."""
    db.session.execute(select(User.id).where(User.id == patient_id).with_for_update())
    config = current_app.config
    total_cap = config.get("MAX_ACTIVE_BOOKINGS", 10)
    doctor_cap = config.get("MAX_ACTIVE_BOOKINGS_PER_DOCTOR", 3)
    upcoming = select(func.count(Appointment.id)).where(
        Appointment.patient_id == patient_id, occupies_slot(now), Appointment.starts_at > now
    )
    if db.session.scalar(upcoming) >= total_cap:
        db.session.rollback()
        raise BookingLimitReached(
            f"You already have {total_cap} upcoming appointments, the most one patient can "
            "hold. Cancel one, or book again after a visit.",
            limit=total_cap,
            scope="total",
        )
    if db.session.scalar(upcoming.where(Appointment.doctor_id == doctor_id)) >= doctor_cap:
        db.session.rollback()
        raise BookingLimitReached(
            f"You already have {doctor_cap} upcoming appointments with this doctor, the most "
            "one patient can hold. Cancel or reschedule one instead.",
            limit=doctor_cap,
            scope="doctor",
        )


def _bookable_slot(slot_id: int, now: datetime) -> Slot:
    # The slot with its doctor, the doctor's account and clinic: one query, not four.
    slot = db.session.get(
        Slot,
        slot_id,
        options=[
            joinedload(Slot.doctor).joinedload(Doctor.user),
            joinedload(Slot.doctor).joinedload(Doctor.clinic),
        ],
    )
    if slot is None:
        raise SlotNotFound()
    if slot.start_at <= now:
        raise InvalidInput("That slot has already started.", field="slot_id")
    if slot.status is not SlotStatus.OPEN or not access.is_listed(slot.doctor):
        raise SlotUnavailable(alternatives=free_alternatives(slot.doctor_id, now, exclude=slot.id))
    return slot


def _reloaded(appointment_id: int) -> Appointment:
    """After a commit: the appointment with what pages and the API show of it, in one query
    (rather than one lazy load per relationship)."""
    return db.session.get(
        Appointment,
        appointment_id,
        options=[
            joinedload(Appointment.doctor).joinedload(Doctor.user),
            joinedload(Appointment.doctor).joinedload(Doctor.clinic),
            joinedload(Appointment.patient),
            joinedload(Appointment.slot),
        ],
        populate_existing=True,
    )


def _new_appointment(
    slot: Slot, patient_id: int, status: AppointmentStatus, now: datetime, **fields
) -> Appointment:
    appointment = Appointment(
        patient_id=patient_id,
        doctor_id=slot.doctor_id,
        slot_id=slot.id,
        starts_at=slot.start_at,
        ends_at=slot.end_at,
        status=status,
        hold_expires_at=now + timedelta(minutes=HOLD_MINUTES)
        if status is S.PENDING_PAYMENT
        else None,
        created_by_id=patient_id,
        updated_by_id=patient_id,
        **fields,
    )
    db.session.add(appointment)
    return appointment


def book_slot(
    *,
    patient_id: int,
    slot_id: int,
    payment_method: PaymentMethod | str,
    notes: str | None,
    now: datetime,
) -> Appointment:
    """Take a slot for a patient, in one transaction.

    Cash: confirmed at once, or pending_approval when the doctor approves bookings. Card: a
    pending_payment hold that lapses after HOLD_MINUTES unless paid. At most
    MAX_ACTIVE_BOOKINGS upcoming active appointments per patient, MAX_ACTIVE_BOOKINGS_PER_DOCTOR
    with one doctor (a reschedule moves one, it does not add one).
    Raises SlotNotFound, SlotUnavailable (with `alternatives`), OverlappingAppointment,
    BookingLimitReached (409, with `limit` and `scope`), PaymentMethodUnavailable,
    InvalidInput, Forbidden.
    """
    _patient(patient_id)
    try:
        method = PaymentMethod(payment_method)
    except ValueError as exc:
        raise InvalidInput("Payment method is cash or card.", field="payment_method") from exc
    if notes is not None and len(notes) > 2000:
        raise InvalidInput("Notes are at most 2000 characters.", field="notes")
    slot = _bookable_slot(slot_id, now)
    doctor = slot.doctor
    if method is PaymentMethod.CASH and doctor.clinic and not doctor.clinic.accepts_cash:
        raise PaymentMethodUnavailable("This clinic does not take cash: please pay by card.")

    # A lapsed hold frees its slot (and its patient's time) from now on.
    _expire_lapsed_holds(
        now, or_(Appointment.slot_id == slot.id, Appointment.patient_id == patient_id)
    )
    if db.session.scalar(
        select(Appointment.id).where(Appointment.slot_id == slot.id, occupies_slot(now))
    ):
        db.session.rollback()
        raise SlotUnavailable(alternatives=free_alternatives(slot.doctor_id, now, exclude=slot_id))
    if _overlapping(patient_id, slot, now):
        db.session.rollback()
        raise OverlappingAppointment()
    _check_booking_caps(patient_id, slot.doctor_id, now)

    if method is PaymentMethod.CARD:
        status = S.PENDING_PAYMENT
    else:
        status = S.PENDING_APPROVAL if doctor.requires_approval else S.CONFIRMED
    appointment = _new_appointment(
        slot,
        patient_id,
        status,
        now,
        payment_method=method,
        notes=(notes or "").strip() or None,
        fee_amount=doctor.fee_amount,
        fee_currency=doctor.fee_currency,
    )
    try:
        db.session.flush()
    except IntegrityError as exc:
        _raise_for_integrity(exc, slot, now)
    audit.record(
        "appointment.booked",
        actor_id=patient_id,
        target_type="appointment",
        target_id=appointment.id,
        data={"slot_id": slot.id, "status": status.value},
    )
    db.session.commit()
    return _reloaded(appointment.id)


def get_appointment(*, appointment_id: int, viewer_id: int) -> Appointment:
    """An appointment the viewer may see. Raises AppointmentNotFound otherwise (no leak)."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not access.can_view_appointment(
        access.load_actor(viewer_id), appointment
    ):
        raise AppointmentNotFound()
    return appointment


def _locked(appointment_id: int, actor_id: int) -> tuple[Appointment, User]:
    actor = access.load_actor(actor_id)
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    )
    if appointment is None or not access.can_view_appointment(actor, appointment):
        raise AppointmentNotFound()
    if not access.can_manage_appointment(actor, appointment):
        raise Forbidden()
    return appointment, actor


def _is_patient_side(actor: User, appointment: Appointment) -> bool:
    return appointment.patient_id == actor.id


def change_deadline(appointment: Appointment) -> datetime:
    """Until when the patient may cancel or reschedule online (the clinic's policy)."""
    hours = appointment.doctor.clinic.cancellation_window_hours if appointment.doctor.clinic else 0
    return appointment.starts_at - timedelta(hours=hours)


def late_cancellation_percent(appointment: Appointment) -> int | None:
    """The share of a card payment a patient gets back for cancelling inside the clinic's
    window; None when the clinic takes no online cancellations there."""
    clinic = appointment.doctor.clinic
    return clinic.late_cancellation_refund_percent if clinic else None


def _late_cancel_allowed(appointment: Appointment) -> bool:
    return late_cancellation_percent(appointment) is not None


def _check_patient_window(appointment: Appointment, now: datetime, what: str) -> None:
    """Patients change online until the deadline; inside the window they may still cancel
    (never reschedule) when the clinic sets a late-cancellation refund."""
    if appointment.status is S.PENDING_PAYMENT:
        return  # an unpaid hold can always be released
    if now < change_deadline(appointment):
        return
    if what == "cancellation" and _late_cancel_allowed(appointment):
        return
    hours = appointment.doctor.clinic.cancellation_window_hours
    raise PolicyWindowClosed(
        f"Online {what} closes {hours} hours before the visit: please call the clinic."
    )


def _free_slot_side_effects(appointment: Appointment, now: datetime) -> None:
    """A slot came free: tell the first patients waiting for that doctor on that day."""
    tz = zone(appointment.doctor.clinic.timezone if appointment.doctor.clinic else "UTC")
    day = appointment.starts_at.astimezone(tz).date()
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.doctor_id == appointment.doctor_id,
            WaitlistEntry.day == day,
            WaitlistEntry.patient_id != appointment.patient_id,
        )
        .order_by(WaitlistEntry.notified_at.is_not(None), WaitlistEntry.created_at)
        .limit(WAITLIST_TOLD_PER_SLOT)
    )
    for entry in entries:
        told = notifications.record(
            user_id=entry.patient_id,
            kind="waitlist.slot_free",
            dedupe_key=f"waitlist:{entry.id}:slot:{appointment.slot_id}:{now.isoformat()}",
            data={
                "doctor_id": appointment.doctor_id,
                "slot_id": appointment.slot_id,
                "start": appointment.starts_at.isoformat(),
            },
        )
        if told is not None:
            entry.notified_at = now


def cancel_appointment(
    *, appointment_id: int, actor_id: int, now: datetime, reason: str | None = None
) -> Appointment:
    """Cancel: patients until the clinic's deadline (inside its window only when it sets a
    late-cancellation refund), the doctor and staff always.

    Frees the slot and tells its waitlist. Raises AppointmentNotFound, Forbidden,
    InvalidTransition, PolicyWindowClosed.
    """
    appointment, actor = _locked(appointment_id, actor_id)
    if appointment.status not in CHANGEABLE or (
        appointment.status is S.PENDING_PAYMENT and appointment.hold_expires_at <= now
    ):
        raise InvalidTransition("Only upcoming appointments can be cancelled.")
    if appointment.starts_at <= now:
        raise InvalidTransition("This appointment has already started.")
    if _is_patient_side(actor, appointment):
        _check_patient_window(appointment, now, "cancellation")
    appointment.status = S.CANCELLED
    appointment.cancelled_at = now
    appointment.cancellation_reason = (reason or "").strip()[:255] or (
        "cancelled by patient" if _is_patient_side(actor, appointment) else "cancelled by clinic"
    )
    appointment.updated_by_id = actor_id
    _free_slot_side_effects(appointment, now)
    audit.record(
        "appointment.cancelled",
        actor_id=actor_id,
        target_type="appointment",
        target_id=appointment.id,
    )
    paid = _decide_refund(appointment, by_patient=_is_patient_side(actor, appointment), now=now)
    db.session.commit()
    _settle_payment(paid, appointment.id, now)
    return appointment


def _decide_refund(appointment: Appointment, *, by_patient: bool, now: datetime) -> bool:
    """Card appointments: decide the refund by the clinic's policy in this transaction."""
    if appointment.payment_method is not PaymentMethod.CARD:
        return False
    from app.services.payments.refunds import decide_cancellation_refund

    return decide_cancellation_refund(appointment, by_patient=by_patient, now=now) is not None


def _settle_payment(paid: bool, appointment_id: int, now: datetime) -> None:
    """After the commit: release the card authorization or send the refund decided."""
    if paid:
        from app.services.payments.refunds import settle_after_cancellation

        settle_after_cancellation(appointment_id=appointment_id, now=now)


def reschedule_appointment(
    *, appointment_id: int, new_slot_id: int, actor_id: int, now: datetime
) -> Appointment:
    """Move an appointment to another free slot of the same doctor, atomically: the new slot
    is taken and the old one freed in one transaction, or nothing changes. The fee and the way
    of paying move with it (nobody pays twice).

    Raises AppointmentNotFound, Forbidden, InvalidTransition, PolicyWindowClosed, SlotNotFound,
    SlotUnavailable, OverlappingAppointment, InvalidInput.
    """
    old, actor = _locked(appointment_id, actor_id)
    if old.status not in (S.CONFIRMED, S.PENDING_APPROVAL):
        raise InvalidTransition("Only booked upcoming appointments can be rescheduled.")
    if old.starts_at <= now:
        raise InvalidTransition("This appointment has already started.")
    if _is_patient_side(actor, old):
        _check_patient_window(old, now, "rescheduling")
    slot = _bookable_slot(new_slot_id, now)
    if slot.doctor_id != old.doctor_id:
        raise InvalidInput("Pick another time with the same doctor.", field="slot_id")
    if slot.id == old.slot_id:
        raise InvalidInput("That is the current time of this appointment.", field="slot_id")

    _expire_lapsed_holds(now, Appointment.slot_id == slot.id)
    previous_status = old.status  # confirmed stays confirmed; awaiting approval stays so
    old.status = S.CANCELLED
    old.cancelled_at = now
    old.cancellation_reason = "rescheduled"
    old.updated_by_id = actor_id
    db.session.flush()
    new = _new_appointment(
        slot,
        old.patient_id,
        previous_status,
        now,
        payment_method=old.payment_method,
        notes=old.notes,
        fee_amount=old.fee_amount,
        fee_currency=old.fee_currency,
        rescheduled_from_id=old.id,
    )
    new.created_by_id = actor_id
    try:
        db.session.flush()
    except IntegrityError as exc:
        _raise_for_integrity(exc, slot, now)
    if old.payment_method is PaymentMethod.CARD:
        from app.services.payments.refunds import move_payments

        move_payments(from_appointment_id=old.id, to_appointment_id=new.id)
    _free_slot_side_effects(old, now)
    audit.record(
        "appointment.rescheduled",
        actor_id=actor_id,
        target_type="appointment",
        target_id=new.id,
        data={"from": old.id, "slot_id": slot.id},
    )
    db.session.commit()
    return new


def _doctor_side(appointment_id: int, actor_id: int) -> tuple[Appointment, User]:
    appointment, actor = _locked(appointment_id, actor_id)
    if _is_patient_side(actor, appointment):
        raise Forbidden("Only the doctor or the clinic's staff can do that.")
    return appointment, actor


def _transition(appointment: Appointment, to: AppointmentStatus, actor_id: int, now: datetime):
    appointment.status = to
    appointment.updated_by_id = actor_id
    audit.record(
        f"appointment.{to.value}",
        actor_id=actor_id,
        target_type="appointment",
        target_id=appointment.id,
    )


def approve_appointment(*, appointment_id: int, actor_id: int, now: datetime) -> Appointment:
    """Confirm a booking that waits for the doctor's approval. A card request is charged now,
    in the same transaction that confirms it (its authorisation was taken at checkout).

    Raises AppointmentNotFound, Forbidden, InvalidTransition, and for card requests what
    payments.capture_on_approval raises (the request then stays as it was).
    """
    from app.services.payments import cards

    appointment, _ = _doctor_side(appointment_id, actor_id)
    if appointment.status is not S.PENDING_APPROVAL:
        raise InvalidTransition("Only appointments awaiting approval can be approved.")
    if cards.live_payment(appointment.id) is None:  # cash, or a free visit
        _transition(appointment, S.CONFIRMED, actor_id, now)
        db.session.commit()
        return appointment
    db.session.rollback()  # the payment step re-locks the request and re-checks it
    cards.capture_on_approval(
        appointment_id=appointment_id,
        approve=lambda locked: _transition(locked, S.CONFIRMED, actor_id, now),
        now=now,
    )
    return db.session.get(Appointment, appointment_id)


def reject_appointment(
    *, appointment_id: int, actor_id: int, now: datetime, reason: str | None = None
) -> Appointment:
    """Turn down a booking that waits for approval; the slot is free again."""
    appointment, _ = _doctor_side(appointment_id, actor_id)
    if appointment.status is not S.PENDING_APPROVAL:
        raise InvalidTransition("Only appointments awaiting approval can be rejected.")
    _transition(appointment, S.REJECTED, actor_id, now)
    appointment.cancellation_reason = (reason or "").strip()[:255] or None
    _free_slot_side_effects(appointment, now)
    paid = _decide_refund(appointment, by_patient=False, now=now)
    db.session.commit()
    _settle_payment(paid, appointment.id, now)
    return appointment


def record_outcome(
    *, appointment_id: int, outcome: AppointmentStatus, actor_id: int, now: datetime
) -> Appointment:
    """After the start time, the doctor marks a confirmed visit completed or a no-show."""
    if outcome not in (S.COMPLETED, S.NO_SHOW):
        raise InvalidInput("The outcome is completed or no_show.", field="outcome")
    appointment, _ = _doctor_side(appointment_id, actor_id)
    if appointment.status is not S.CONFIRMED:
        raise InvalidTransition("Only confirmed appointments get an outcome.")
    if now < appointment.starts_at:
        raise InvalidTransition("The outcome can be recorded once the visit has started.")
    _transition(appointment, outcome, actor_id, now)
    db.session.commit()
    return appointment


def expire_unanswered_requests(*, now: datetime) -> int:
    """Cancel the requests no doctor answered in time: the visit's start has come, or a card
    request has waited APPROVAL_WAIT (its card authorisation would soon lapse at Stripe). The
    patient is told; the card authorisations are released by the payment jobs. Commits."""
    from app.models import Payment, PaymentStatus

    authorised_long_ago = select(Payment.appointment_id).where(
        Payment.status == PaymentStatus.AUTHORIZED, Payment.created_at <= now - APPROVAL_WAIT
    )
    lapsed = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.status == S.PENDING_APPROVAL,
            or_(Appointment.starts_at <= now, Appointment.id.in_(authorised_long_ago)),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for appointment in lapsed:
        appointment.status = S.CANCELLED
        appointment.cancelled_at = now
        appointment.cancellation_reason = "not approved in time"
        appointment.updated_at = now
        if appointment.starts_at > now:
            _free_slot_side_effects(appointment, now)
        audit.record(
            "appointment.approval_lapsed",
            actor_id=None,
            target_type="appointment",
            target_id=appointment.id,
        )
        notifications.record(
            user_id=appointment.patient_id,
            kind="appointment.approval_lapsed",
            dedupe_key=f"appointment:{appointment.id}:approval-lapsed",
            data={"appointment_id": appointment.id, "doctor_id": appointment.doctor_id},
        )
    db.session.commit()
    return len(lapsed)


def expire_lapsed_holds(*, now: datetime) -> int:
    """Mark every lapsed payment hold expired (safe to run any time, concurrently)."""
    result = db.session.execute(
        update(Appointment)
        .where(Appointment.status == S.PENDING_PAYMENT, Appointment.hold_expires_at <= now)
        .values(status=S.EXPIRED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def join_waitlist(*, patient_id: int, doctor_id: int, day: date, now: datetime) -> WaitlistEntry:
    """Wait for a free slot of a doctor on a day; joining twice is the same entry."""
    from app.services.scheduling.appointments import public_doctor

    _patient(patient_id)
    doctor = public_doctor(doctor_id)
    tz = zone(doctor.clinic.timezone if doctor.clinic else "UTC")
    if day < now.astimezone(tz).date():
        raise InvalidInput("That day has passed.", field="day")
    if day > now.astimezone(tz).date() + timedelta(days=366):
        raise InvalidInput("Waitlists go at most a year ahead.", field="day")
    existing = db.session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.patient_id == patient_id,
            WaitlistEntry.doctor_id == doctor_id,
            WaitlistEntry.day == day,
        )
    )
    if existing:
        return existing
    entry = WaitlistEntry(patient_id=patient_id, doctor_id=doctor_id, day=day)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:  # joined twice at once: the other request's entry stands
        return db.session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.patient_id == patient_id,
                WaitlistEntry.doctor_id == doctor_id,
                WaitlistEntry.day == day,
            )
        ).one()
    db.session.commit()
    return entry


def allowed_actions(appointment: Appointment, viewer: User, now: datetime) -> list[str]:
    """What the viewer may do with the appointment now (for pages and the API)."""
    actions: list[str] = []
    if not access.can_manage_appointment(viewer, appointment):
        return actions
    patient_side = _is_patient_side(viewer, appointment)
    upcoming = appointment.starts_at > now
    live_hold = appointment.status is not S.PENDING_PAYMENT or appointment.hold_expires_at > now
    in_window = not patient_side or now < change_deadline(appointment)
    if appointment.status in CHANGEABLE and upcoming and live_hold:
        if (
            in_window
            or appointment.status is S.PENDING_PAYMENT
            or _late_cancel_allowed(appointment)
        ):
            actions.append("cancel")
        if appointment.status is not S.PENDING_PAYMENT and in_window:
            actions.append("reschedule")
    if not patient_side and appointment.status is S.PENDING_APPROVAL:
        actions += ["approve", "reject"]
    if not patient_side and appointment.status is S.CONFIRMED and not upcoming:
        actions += ["complete", "no_show"]
    if patient_side and appointment.status not in (S.PENDING_PAYMENT,):
        actions.append("rebook")
    return actions
