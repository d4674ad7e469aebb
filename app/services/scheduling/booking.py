"""Booking: hold a slot, confirm, cancel, reschedule, approve, complete; the waitlist.

"A slot is booked by exactly one patient" is the partial unique index on active appointments;
"a patient is never in two places at once" is the patient-overlap constraint. The checks here
come first only to give clear messages: under a race the database decides, and the loser gets
SlotUnavailable (409), never a 500.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Role,
    Slot,
    SlotStatus,
    User,
    WaitlistEntry,
    occupies_slot,
)
from app.services import access, audit
from app.services.accounts import accounts
from app.services.errors import (
    AppointmentNotFound,
    Conflict,
    Forbidden,
    InvalidInput,
    SlotNotFound,
    parse_choice,
)
from app.services.localtime import zone
from app.services.notifications import events, outbox
from app.services.payments import cards, gateway, refunds, settle
from app.services.reviews import reviews
from app.services.scheduling import occupancy, search
from app.services.scheduling.appointments import public_doctor
from app.services.scheduling.policy import (
    InvalidTransition,
    Policy,
    policy_for,
    require_acknowledged,
)
from app.services.transaction import checks_only, transaction, use_case
from app.services.webhooks import events as webhooks

ALTERNATIVES_SHOWN = 5
WAITLIST_TOLD_PER_SLOT = 5

S = AppointmentStatus


class SlotUnavailable(Conflict):
    code = "slot_unavailable"
    default_message = lazy_gettext("Sorry, that slot was just taken. Please pick another time.")


class BookingLimitReached(Conflict):
    code = "booking_limit_reached"
    default_message = lazy_gettext(
        "You have as many upcoming appointments as one patient can hold."
    )


class OverlappingAppointment(Conflict):
    code = "overlapping_appointment"
    default_message = lazy_gettext("You already have an appointment at that time.")


class PaymentMethodUnavailable(InvalidInput):
    code = "payment_method_unavailable"


def _constraint(exc: IntegrityError) -> str:
    """Which constraint refused a write (PostgreSQL names it; SQLite describes it)."""
    diag = getattr(exc.orig, "diag", None)
    return (getattr(diag, "constraint_name", None) or str(exc.orig)).lower()


def _raise_for_integrity(exc: IntegrityError, slot: Slot, now: datetime):
    name = _constraint(exc)
    db.session.rollback()  # the failed flush leaves the session unusable until rolled back
    if "patient" in name:
        raise OverlappingAppointment() from exc
    raise SlotUnavailable(alternatives=free_alternatives(slot.doctor_id, now, exclude=slot.id))


def free_alternatives(doctor_id: int, now: datetime, *, exclude: int | None = None) -> list:
    """The next few free slots of a doctor, as dicts for a message or a JSON body."""
    stmt = search.free_slots_query(doctor_id, now).limit(ALTERNATIVES_SHOWN + 1)
    slots = [s for s in db.session.scalars(stmt) if s.id != exclude][:ALTERNATIVES_SHOWN]
    return [
        {"id": s.id, "start": s.start_at.isoformat(), "end": s.end_at.isoformat()} for s in slots
    ]


def require_patient(patient_id: int, refusal: str | None = None) -> User:
    """The acting patient, with a confirmed email. Raises Forbidden (with `refusal`),
    EmailNotVerified."""
    patient = access.load_actor(patient_id)
    if patient.role is not Role.PATIENT:
        raise Forbidden(refusal or gettext("Only patients can book appointments."))
    accounts.require_verified(patient)
    return patient


def _check_booking_caps(patient_id: int, doctor_id: int, now: datetime) -> None:
    """One patient cannot book out a doctor's week: upcoming active appointments (holds
    included) are capped in all and per doctor. The patient's row is locked first, so that two
    bookings at once cannot both pass the count."""
    db.session.execute(select(User.id).where(User.id == patient_id).with_for_update())
    config = current_app.config
    total_cap = config.get("MAX_ACTIVE_BOOKINGS", 10)
    doctor_cap = config.get("MAX_ACTIVE_BOOKINGS_PER_DOCTOR", 3)
    # Both counts in one statement: in all, and with this doctor.
    total, with_doctor = db.session.execute(
        select(
            func.count(Appointment.id),
            func.count(Appointment.id).filter(Appointment.doctor_id == doctor_id),
        ).where(
            Appointment.patient_id == patient_id, occupies_slot(now), Appointment.starts_at > now
        )
    ).one()
    if total >= total_cap:
        raise BookingLimitReached(
            gettext(
                "You already have %(total_cap)s upcoming appointments, the most one patient can "
                "hold. Cancel one, or book again after a visit.",
                total_cap=total_cap,
            ),
            limit=total_cap,
            scope="total",
        )
    if with_doctor >= doctor_cap:
        raise BookingLimitReached(
            gettext(
                "You already have %(doctor_cap)s upcoming appointments with this doctor, the most "
                "one patient can hold. Cancel or reschedule one instead.",
                doctor_cap=doctor_cap,
            ),
            limit=doctor_cap,
            scope="doctor",
        )


def _bookable_slot(slot_id: int, now: datetime) -> Slot:
    # The slot with its doctor, the doctor's account, clinic and specialties (is_listed reads
    # them): one query, not five.
    slot = db.session.get(
        Slot,
        slot_id,
        options=[
            joinedload(Slot.doctor).joinedload(Doctor.user),
            joinedload(Slot.doctor).joinedload(Doctor.clinic),
            joinedload(Slot.doctor).joinedload(Doctor.specialties),
        ],
    )
    if slot is None:
        raise SlotNotFound()
    if slot.start_at <= now:
        raise InvalidInput(gettext("That slot has already started."), field="slot_id")
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
        slot=slot,  # the object, not only its id: it (and its doctor, when loaded) stays at
        # hand for what is shown of the appointment (the session keeps objects weakly)
        starts_at=slot.start_at,
        ends_at=slot.end_at,
        status=status,
        hold_expires_at=now + occupancy.HOLD if status is S.PENDING_PAYMENT else None,
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
    acknowledge_policy: bool = False,
) -> Appointment:
    """Take a slot for a patient, in one transaction.

    Cash: confirmed at once, or pending_approval when the doctor approves bookings. Card: a
    pending_payment hold that lapses after HOLD_MINUTES unless paid. At most
    MAX_ACTIVE_BOOKINGS upcoming active appointments per patient, MAX_ACTIVE_BOOKINGS_PER_DOCTOR
    with one doctor (a reschedule moves one, it does not add one).
    Raises SlotNotFound, SlotUnavailable (with `alternatives`), OverlappingAppointment,
    BookingLimitReached (409, with `limit` and `scope`), PaymentMethodUnavailable,
    PolicyNotAcknowledged (422: a slot inside the clinic's no-change window needs
    `acknowledge_policy`), InvalidInput, Forbidden.
    """
    # What the transaction loaded and wrote (the slot, its doctor, account and clinic, the
    # patient, the appointment) is what the answer shows: kept after the commit, not read
    # again. Unless something committed since (the embedded outbox delivering in this
    # process): then read once, with all the answer shows, in one query.
    with transaction(keep_loaded=True):
        appointment = _book_slot(
            patient_id=patient_id,
            slot_id=slot_id,
            payment_method=payment_method,
            notes=notes,
            now=now,
            acknowledge_policy=acknowledge_policy,
        )
    state = inspect(appointment)
    if state.expired_attributes:
        return _reloaded(state.identity[0])  # (its id without loading the row first)
    return appointment


def _book_slot(
    *,
    patient_id: int,
    slot_id: int,
    payment_method: PaymentMethod | str,
    notes: str | None,
    now: datetime,
    acknowledge_policy: bool,
) -> Appointment:
    patient = require_patient(patient_id)
    method = parse_choice(
        PaymentMethod,
        payment_method,
        lazy_gettext("Payment method is cash or card."),
        field="payment_method",
    )
    if notes is not None and len(notes) > 2000:
        raise InvalidInput(gettext("Notes are at most 2000 characters."), field="notes")
    slot = _bookable_slot(slot_id, now)
    doctor = slot.doctor
    require_acknowledged(slot.start_at, doctor.clinic, now, acknowledge_policy)
    if method is PaymentMethod.CASH and doctor.clinic and not doctor.clinic.accepts_cash:
        raise PaymentMethodUnavailable(
            gettext("This clinic does not take cash: please pay by card.")
        )

    taken, busy, lapsed = occupancy.slot_and_patient_taken(slot, patient_id, now)
    if taken:
        raise SlotUnavailable(alternatives=free_alternatives(slot.doctor_id, now, exclude=slot_id))
    if busy:
        raise OverlappingAppointment()
    if lapsed:  # a lapsed hold frees its slot (and its patient's time) from now on
        occupancy.expire_lapsed_holds(now, occupancy.holds_of(slot.id, patient_id))
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
        patient=patient,
        payment_method=method,
        notes=(notes or "").strip() or None,
        fee_amount=doctor.fee_amount,
        fee_currency=doctor.fee_currency,
    )
    _insert_booked(appointment, slot, now, actor_id=patient_id)
    events.booked(appointment)
    webhooks.booked(appointment, now=now)
    occupancy.announce(appointment, was=None)
    return appointment


def _insert_booked(
    appointment: Appointment, slot: Slot, now: datetime, *, actor_id: int, **extra
) -> None:
    """Write the new appointment (the database's constraints decide a race: a refusal is
    raised as the domain's error) and audit the booking."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        _raise_for_integrity(exc, slot, now)
    audit.record(
        "appointment.booked",
        actor_id=actor_id,
        target_type="appointment",
        target_id=appointment.id,
        data={"slot_id": slot.id, "status": appointment.status.value, **extra},
    )


def book_visit_now(
    *,
    slot: Slot,
    patient_id: int,
    payment_method: PaymentMethod,
    fee_amount: int,
    fee_currency: str,
    notes: str | None,
    actor_id: int,
    now: datetime,
) -> Appointment:
    """A confirmed appointment on a slot that begins now (an on-demand consult the doctor
    accepted: no hold, no approval), inside the caller's transaction; the caller settles
    the money. Raises OverlappingAppointment (the patient has a visit at that time)."""
    appointment = _new_appointment(
        slot,
        patient_id,
        S.CONFIRMED,
        now,
        payment_method=payment_method,
        notes=notes,
        fee_amount=fee_amount,
        fee_currency=fee_currency,
    )
    appointment.created_by_id = appointment.updated_by_id = actor_id
    _insert_booked(appointment, slot, now, actor_id=actor_id, consult=True)
    webhooks.booked(appointment, now=now)
    occupancy.announce(appointment, was=None)
    return appointment


def book_appointment(
    *,
    patient_id: int,
    slot_id: int,
    payment_method: PaymentMethod | str,
    notes: str | None,
    now: datetime,
    acknowledge_policy: bool = False,
) -> cards.Checkout:
    """Book a slot, whichever way the patient pays: cash is confirmed at once (or awaits the
    doctor's approval), card is a hold with its PaymentIntent open (`Checkout.as_dict()`).

    Raises what book_slot raises, and PaymentProviderUnavailable.
    """  # fmt: skip
    if payment_method in (PaymentMethod.CARD, PaymentMethod.CARD.value):
        return book_card_appointment(
            patient_id=patient_id,
            slot_id=slot_id,
            notes=notes,
            now=now,
            acknowledge_policy=acknowledge_policy,
        )
    appointment = book_slot(
        patient_id=patient_id,
        slot_id=slot_id,
        payment_method=payment_method,
        notes=notes,
        now=now,
        acknowledge_policy=acknowledge_policy,
    )
    return cards.Checkout(appointment, None, None, None, cards.CheckoutStatus.CLOSED)


def book_card_appointment(
    *,
    patient_id: int,
    slot_id: int,
    notes: str | None,
    now: datetime,
    acknowledge_policy: bool = False,
) -> cards.Checkout:
    """Hold a slot for a card payment and open its PaymentIntent. When Stripe cannot be
    reached the hold is released at once (no hold without a way to pay). Two use cases by
    necessity: the hold commits before Stripe is called, so no lock waits on the network.

    Raises CardPaymentsOff (no Stripe configured), what booking.book_slot raises, and
    PaymentProviderUnavailable.
    """
    if not gateway.is_configured():
        raise cards.CardPaymentsOff()
    appointment = book_slot(
        patient_id=patient_id,
        slot_id=slot_id,
        payment_method=PaymentMethod.CARD,
        notes=notes,
        now=now,
        acknowledge_policy=acknowledge_policy,
    )
    try:
        return cards.begin_checkout(appointment_id=appointment.id, patient_id=patient_id, now=now)
    except settle.PaymentProviderUnavailable:
        release_hold(appointment_id=appointment.id, now=now, reason="payment provider unavailable")
        raise


@use_case
def release_hold(*, appointment_id: int, now: datetime, reason: str) -> None:
    """End an unpaid hold (its slot is free again); its intent is cancelled by the jobs."""
    appointment = settle.lock_appointment(appointment_id)
    if appointment is not None and appointment.status is S.PENDING_PAYMENT:
        appointment.status = S.CANCELLED
        appointment.cancelled_at = now
        appointment.cancellation_reason = reason
        occupancy.announce(appointment, was=S.PENDING_PAYMENT)


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


def _free_slot_side_effects(appointment: Appointment, now: datetime) -> None:
    """A slot came free: tell the first patients waiting for that doctor on that day."""
    tz = zone(appointment.doctor.timezone)
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
        told = outbox.notify(
            entry.patient,
            "waitlist.slot_free",
            key=f"waitlist:{entry.id}:slot:{appointment.slot_id}:{now.isoformat()}",
            data={
                "doctor_id": appointment.doctor_id,
                "slot_id": appointment.slot_id,
                "start": appointment.starts_at.isoformat(),
            },
        )
        if told:
            entry.notified_at = now


def cancel_appointment(
    *, appointment_id: int, actor_id: int, now: datetime, reason: str | None = None
) -> Appointment:
    """Cancel: patients until the clinic's deadline (inside its window only when it sets a
    late-cancellation refund), the doctor and staff always.

    Frees the slot and tells its waitlist. Raises AppointmentNotFound, Forbidden,
    InvalidTransition, PolicyWindowClosed.
    """
    with transaction():
        appointment, actor = _locked(appointment_id, actor_id)
        rules = policy_for(appointment, actor, now)
        if rules.cancel_refusal is not None:
            raise rules.cancel_refusal
        was = appointment.status
        appointment.status = S.CANCELLED
        appointment.cancelled_at = now
        appointment.cancellation_reason = (reason or "").strip()[:255] or (
            "cancelled by patient" if rules.by_patient else "cancelled by clinic"
        )
        appointment.updated_by_id = actor_id
        _free_slot_side_effects(appointment, now)
        audit.record(
            "appointment.cancelled",
            actor_id=actor_id,
            target_type="appointment",
            target_id=appointment.id,
            data={
                "from": was.value,
                "by": "patient" if rules.by_patient else "staff",
                "reason": appointment.cancellation_reason,
            },
        )
        payment = _decide_refund(appointment, rules)
        paid = payment is not None
        owed = payment.refund_owed if payment is not None else 0
        events.cancelled(appointment, actor, refund_amount=owed or None)
        webhooks.appointment_event(
            "appointment.cancelled",
            appointment,
            now=now,
            cancelled_by="patient"
            if actor.id == appointment.patient_id
            else ("doctor" if actor.id == appointment.doctor.user_id else "clinic"),
        )
        occupancy.announce(appointment, was=was)
    # After the commit (never inside it): release the authorisation or send the refund.
    _settle_payment(paid, appointment_id, now)
    return _reloaded(appointment_id)


def _decide_refund(appointment: Appointment, rules: Policy) -> Payment | None:
    """Card appointments: decide the refund by the clinic's policy in this transaction; the
    payment to settle after the commit, if any."""
    if appointment.payment_method is not PaymentMethod.CARD:
        return None
    return refunds.decide_cancellation_refund(appointment, rules)


def _settle_payment(paid: bool, appointment_id: int, now: datetime) -> None:
    """After the commit: release the card authorization or send the refund decided."""
    if paid:
        refunds.settle_after_cancellation(appointment_id=appointment_id, now=now)


@use_case
def reschedule_appointment(
    *,
    appointment_id: int,
    new_slot_id: int,
    actor_id: int,
    now: datetime,
    acknowledge_policy: bool = False,
) -> Appointment:
    """Move an appointment to another free slot of the same doctor, atomically: the new slot
    is taken and the old one freed in one transaction, or nothing changes. The fee and the way
    of paying move with it (nobody pays twice).

    A patient moving into the clinic's no-change window must pass `acknowledge_policy`.

    Raises AppointmentNotFound, Forbidden, InvalidTransition, PolicyWindowClosed, SlotNotFound,
    SlotUnavailable, OverlappingAppointment, PolicyNotAcknowledged, InvalidInput.
    """
    old, actor = _locked(appointment_id, actor_id)
    rules = policy_for(old, actor, now)
    if rules.reschedule_refusal is not None:
        raise rules.reschedule_refusal
    slot = _bookable_slot(new_slot_id, now)
    if slot.doctor_id != old.doctor_id:
        raise InvalidInput(gettext("Pick another time with the same doctor."), field="slot_id")
    if slot.id == old.slot_id:
        raise InvalidInput(
            gettext("That is the current time of this appointment."), field="slot_id"
        )
    if rules.by_patient:  # the doctor and staff are held to no window
        require_acknowledged(slot.start_at, slot.doctor.clinic, now, acknowledge_policy)

    occupancy.expire_lapsed_holds(now, Appointment.slot_id == slot.id)
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
        refunds.move_payments(from_appointment_id=old.id, to_appointment_id=new.id)
    _free_slot_side_effects(old, now)
    events.rescheduled(old, new, actor)
    webhooks.appointment_event(
        "appointment.rescheduled",
        new,
        now=now,
        rescheduled_from_id=old.id,
        previous_starts_at=webhooks.iso(old.starts_at),
    )
    occupancy.announce(old, was=previous_status)
    occupancy.announce(new, was=None)
    audit.record(
        "appointment.rescheduled",
        actor_id=actor_id,
        target_type="appointment",
        target_id=new.id,
        data={"from": old.id, "slot_id": slot.id},
    )
    return new


def _doctor_side(appointment_id: int, actor_id: int) -> tuple[Appointment, User]:
    appointment, actor = _locked(appointment_id, actor_id)
    if _is_patient_side(actor, appointment):
        raise Forbidden(gettext("Only the doctor or the clinic's staff can do that."))
    return appointment, actor


def _transition(appointment: Appointment, to: AppointmentStatus, actor_id: int, now: datetime):
    was = appointment.status
    appointment.status = to
    appointment.updated_by_id = actor_id
    appointment.updated_at = now
    audit.record(
        f"appointment.{to.value}",
        actor_id=actor_id,
        target_type="appointment",
        target_id=appointment.id,
    )
    if was is S.PENDING_APPROVAL and to is S.CONFIRMED:
        events.approved(appointment)
        webhooks.appointment_event("appointment.confirmed", appointment, now=now)
    elif to is S.REJECTED:
        events.rejected(appointment)
        by = "doctor" if actor_id == appointment.doctor.user_id else "clinic"
        webhooks.appointment_event("appointment.cancelled", appointment, now=now, cancelled_by=by)
    elif to is S.COMPLETED:
        webhooks.appointment_event("appointment.completed", appointment, now=now)
    occupancy.announce(appointment, was=was)


def _pending_request(appointment_id: int, actor_id: int) -> Appointment:
    """The request awaiting approval, locked, for its doctor or staff."""
    appointment, _ = _doctor_side(appointment_id, actor_id)
    if appointment.status is not S.PENDING_APPROVAL:
        raise InvalidTransition(gettext("Only appointments awaiting approval can be approved."))
    return appointment


@use_case
def _confirm_request(*, appointment_id: int, actor_id: int, now: datetime) -> Appointment:
    appointment = _pending_request(appointment_id, actor_id)
    _transition(appointment, S.CONFIRMED, actor_id, now)
    return appointment


def approve_appointment(*, appointment_id: int, actor_id: int, now: datetime) -> Appointment:
    """Confirm a booking that waits for the doctor's approval. A card request is charged now,
    in the same transaction that confirms it (its authorisation was taken at checkout).

    Raises AppointmentNotFound, Forbidden, InvalidTransition, and for card requests what
    cards.capture_on_approval raises (the request then stays as it was).
    """
    with checks_only():
        card = settle.live_payment(_pending_request(appointment_id, actor_id).id) is not None
    if not card:  # cash, or a free visit
        return _confirm_request(appointment_id=appointment_id, actor_id=actor_id, now=now)
    # A card request: the payment step re-locks it, re-checks it and confirms it as it charges.
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
    with transaction():
        appointment, _ = _doctor_side(appointment_id, actor_id)
        if appointment.status is not S.PENDING_APPROVAL:
            raise InvalidTransition(gettext("Only appointments awaiting approval can be rejected."))
        _transition(appointment, S.REJECTED, actor_id, now)
        appointment.cancellation_reason = (reason or "").strip()[:255] or None
        _free_slot_side_effects(appointment, now)
        paid = _decide_refund(appointment, policy_for(appointment, None, now)) is not None
    # After the commit: release the card authorisation (or refund what was captured).
    _settle_payment(paid, appointment_id, now)
    return _reloaded(appointment_id)


@use_case
def record_outcome(
    *, appointment_id: int, outcome: AppointmentStatus, actor_id: int, now: datetime
) -> Appointment:
    """After the start time, the doctor marks a confirmed visit completed or a no-show."""
    if outcome not in (S.COMPLETED, S.NO_SHOW):
        raise InvalidInput(gettext("The outcome is completed or no_show."), field="outcome")
    appointment, _ = _doctor_side(appointment_id, actor_id)
    if appointment.status is not S.CONFIRMED:
        raise InvalidTransition(gettext("Only confirmed appointments get an outcome."))
    if now < appointment.starts_at:
        raise InvalidTransition(gettext("The outcome can be recorded once the visit has started."))
    _transition(appointment, outcome, actor_id, now)
    if outcome is S.COMPLETED:
        reviews.request_review(appointment)
    return appointment


@use_case
def expire_unanswered_requests(*, now: datetime) -> int:
    """Cancel the requests no doctor answered in time: the visit's start has come, or a card
    request has waited APPROVAL_WAIT (its card authorisation would soon lapse at Stripe). The
    patient is told; the card authorisations are released by the payment jobs."""
    authorised_long_ago = select(Payment.appointment_id).where(
        Payment.status == PaymentStatus.AUTHORIZED,
        Payment.created_at <= now - occupancy.APPROVAL_WAIT,
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
        events.approval_lapsed(appointment)
        webhooks.appointment_event(
            "appointment.cancelled", appointment, now=now, cancelled_by="system"
        )
        occupancy.announce(appointment, was=S.PENDING_APPROVAL)
    return len(lapsed)


@use_case
def expire_lapsed_holds(*, now: datetime) -> int:
    """Mark every lapsed payment hold expired (safe to run any time, concurrently)."""
    return occupancy.expire_lapsed_holds(now)


@use_case
def join_waitlist(*, patient_id: int, doctor_id: int, day: date, now: datetime) -> WaitlistEntry:
    """Wait for a free slot of a doctor on a day; joining twice is the same entry."""
    require_patient(patient_id)
    doctor = public_doctor(doctor_id)
    tz = zone(doctor.timezone)
    if day < now.astimezone(tz).date():
        raise InvalidInput(gettext("That day has passed."), field="day")
    if day > now.astimezone(tz).date() + timedelta(days=366):
        raise InvalidInput(gettext("Waitlists go at most a year ahead."), field="day")
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
    return entry


def allowed_actions(appointment: Appointment, viewer: User, now: datetime) -> list[str]:
    """What the viewer may do with the appointment now (for pages and the API): the guards'
    own policy, so a page never offers what the use case would refuse."""
    if not access.can_manage_appointment(viewer, appointment):
        return []
    rules = policy_for(appointment, viewer, now)
    actions = [
        name
        for name, allowed in (("cancel", rules.can_cancel), ("reschedule", rules.can_reschedule))
        if allowed
    ]
    if not rules.by_patient and appointment.status is S.PENDING_APPROVAL:
        actions += ["approve", "reject"]
    upcoming = appointment.starts_at > now
    if not rules.by_patient and appointment.status is S.CONFIRMED and not upcoming:
        actions += ["complete", "no_show"]
    if rules.by_patient and appointment.status is not S.PENDING_PAYMENT:
        actions.append("rebook")
    return actions
