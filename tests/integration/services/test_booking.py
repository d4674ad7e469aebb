"""Booking use cases on PostgreSQL: hold, confirm, cancel, reschedule, approve, outcomes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    AuditLog,
    Notification,
    NotificationChannel,
    Role,
    SlotStatus,
)
from app.services.errors import AppointmentNotFound, Forbidden, InvalidInput, SlotNotFound
from app.services.scheduling import booking, policy
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
S = AppointmentStatus


@pytest.fixture
def doctor(ctx):
    return make_doctor(clinic=make_clinic(cancellation_window_hours=24))


def slot_at(doctor, days=3, hour=15):
    return make_slot(doctor, start=NOW.replace(hour=hour) + timedelta(days=days))


def book(patient, slot, method="cash", now=NOW, notes=None):
    return booking.book_slot(
        patient_id=patient.id, slot_id=slot.id, payment_method=method, notes=notes, now=now
    )


def active_on(slot):
    return db.session.scalars(
        select(Appointment).where(
            Appointment.slot_id == slot.id, Appointment.status.in_(policy.CHANGEABLE)
        )
    ).all()


def test_cash_booking_is_confirmed_at_once_with_a_fee_snapshot(doctor):
    patient = make_user(Role.PATIENT)
    appointment = book(patient, slot_at(doctor), notes="  knee pain ")
    assert appointment.status is S.CONFIRMED
    assert appointment.fee_amount == doctor.fee_amount
    assert appointment.notes == "knee pain"
    assert appointment.starts_at == appointment.slot.start_at
    assert db.session.scalar(select(AuditLog.action)) == "appointment.booked"


def test_a_cash_booking_sends_only_the_statements_its_rules_need(doctor):
    """The transaction: the slot (with its doctor, account, clinic, specialties), the slot and
    patient checks and any lapsed hold in one, the patient's lock, both caps in one, the
    appointment, its audit row, the notices (preferences, insert, unread count), the webhook
    deliveries. No hold-expiry UPDATE when nothing lapsed; nothing read again for the answer."""
    patient, slot = make_user(Role.PATIENT), slot_at(doctor)
    patient_id, slot_id = patient.id, slot.id
    db.session.expunge_all()  # what a request starts with: nothing loaded
    sent, committed = [], []

    def count(_conn, _cursor, statement, *_args):
        if not committed:
            sent.append(" ".join(statement.split()[:3]))

    def done(_session):
        committed.append(True)

    event.listen(db.engine, "before_cursor_execute", count)
    event.listen(Session, "after_commit", done)
    try:
        appointment = booking.book_slot(
            patient_id=patient_id, slot_id=slot_id, payment_method="cash", notes=None, now=NOW
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        event.remove(Session, "after_commit", done)

    assert appointment.status is S.CONFIRMED and appointment.slot.id == slot_id
    assert not [s for s in sent if s.startswith("UPDATE appointments")], sent
    # The patient (no token loaded them here) and the ten above.
    assert len(sent) <= 11, "\n".join(sent)


def test_doctor_who_approves_bookings_gets_a_pending_request(ctx):
    doctor = make_doctor(requires_approval=True)
    appointment = book(make_user(Role.PATIENT), slot_at(doctor))
    assert appointment.status is S.PENDING_APPROVAL


def test_card_booking_is_a_five_minute_hold(doctor):
    appointment = book(make_user(Role.PATIENT), slot_at(doctor), method="card")
    assert appointment.status is S.PENDING_PAYMENT
    assert appointment.hold_expires_at == NOW + timedelta(minutes=5)


def test_second_patient_gets_slot_unavailable_with_other_free_slots(doctor):
    slot = slot_at(doctor)
    later = [slot_at(doctor, days=4), slot_at(doctor, days=5)]
    book(make_user(Role.PATIENT), slot)
    with pytest.raises(booking.SlotUnavailable) as caught:
        book(make_user(Role.PATIENT), slot)
    assert caught.value.status_code == 409
    assert [a["id"] for a in caught.value.details["alternatives"]] == [s.id for s in later]
    assert len(active_on(slot)) == 1


def test_a_lapsed_hold_frees_the_slot_for_the_next_patient(doctor):
    slot = slot_at(doctor)
    hold = book(make_user(Role.PATIENT), slot, method="card")
    taken = book(make_user(Role.PATIENT), slot, now=NOW + timedelta(minutes=6))
    db.session.refresh(hold)
    assert hold.status is S.EXPIRED
    assert taken.status is S.CONFIRMED


def test_the_patients_own_lapsed_hold_at_that_hour_does_not_stand_in_the_way(doctor):
    patient = make_user(Role.PATIENT)
    hold = book(patient, slot_at(doctor), method="card")
    elsewhere = slot_at(make_doctor())  # the same hour with another doctor
    later = NOW + timedelta(minutes=6)
    taken = book(patient, elsewhere, now=later)  # the hold is marked expired before the insert
    db.session.refresh(hold)
    assert hold.status is S.EXPIRED and hold.updated_at == later
    assert taken.status is S.CONFIRMED


def test_a_live_hold_keeps_the_slot(doctor):
    slot = slot_at(doctor)
    book(make_user(Role.PATIENT), slot, method="card")
    with pytest.raises(booking.SlotUnavailable):
        book(make_user(Role.PATIENT), slot, now=NOW + timedelta(minutes=4))


def test_blocked_and_started_slots_cannot_be_booked(doctor):
    blocked = make_slot(doctor, start=NOW + timedelta(days=2), status=SlotStatus.BLOCKED)
    with pytest.raises(booking.SlotUnavailable):
        book(make_user(Role.PATIENT), blocked)
    started = make_slot(doctor, start=NOW - timedelta(minutes=10))
    with pytest.raises(InvalidInput, match="already started"):
        book(make_user(Role.PATIENT), started)
    with pytest.raises(SlotNotFound):
        booking.book_slot(patient_id=make_user().id, slot_id=999, payment_method="cash",
                          notes=None, now=NOW)  # fmt: skip


def test_a_patient_cannot_hold_two_appointments_at_the_same_time(doctor):
    patient = make_user(Role.PATIENT)
    book(patient, slot_at(doctor))
    other_doctor_same_time = slot_at(make_doctor())
    with pytest.raises(booking.OverlappingAppointment):
        book(patient, other_doctor_same_time)


def test_only_patients_book_and_only_known_payment_methods(doctor):
    slot = slot_at(doctor)
    with pytest.raises(Forbidden):
        book(make_user(Role.DOCTOR), slot)
    with pytest.raises(InvalidInput, match="cash or card"):
        book(make_user(Role.PATIENT), slot, method="bitcoin")
    assert active_on(slot) == []


def test_clinic_without_cash_refuses_cash(ctx):
    doctor = make_doctor(clinic=make_clinic(accepts_cash=False))
    with pytest.raises(booking.PaymentMethodUnavailable):
        book(make_user(Role.PATIENT), slot_at(doctor))


def test_patient_cancels_before_the_policy_window_and_the_slot_is_free(doctor):
    patient = make_user(Role.PATIENT)
    slot = slot_at(doctor, days=3)
    appointment = book(patient, slot)
    booking.cancel_appointment(appointment_id=appointment.id, actor_id=patient.id, now=NOW)
    assert appointment.status is S.CANCELLED
    assert appointment.cancelled_at == NOW
    assert book(make_user(Role.PATIENT), slot).status is S.CONFIRMED


def test_patient_cannot_cancel_online_inside_the_window_but_the_doctor_can(doctor):
    patient = make_user(Role.PATIENT)
    appointment = book(patient, slot_at(doctor, days=3))
    late = appointment.starts_at - timedelta(hours=23)
    with pytest.raises(policy.PolicyWindowClosed, match="24 hours"):
        booking.cancel_appointment(appointment_id=appointment.id, actor_id=patient.id, now=late)
    booking.cancel_appointment(appointment_id=appointment.id, actor_id=doctor.user_id, now=late)
    assert appointment.status is S.CANCELLED
    assert appointment.cancellation_reason == "cancelled by clinic"


def test_strangers_cannot_see_or_cancel_an_appointment(doctor):
    appointment = book(make_user(Role.PATIENT), slot_at(doctor))
    for stranger in (make_user(Role.PATIENT), make_doctor().user):
        with pytest.raises(AppointmentNotFound):
            booking.get_appointment(appointment_id=appointment.id, viewer_id=stranger.id)
        with pytest.raises(AppointmentNotFound):
            booking.cancel_appointment(appointment_id=appointment.id, actor_id=stranger.id, now=NOW)
    admin = make_user(Role.ADMIN)
    assert booking.get_appointment(appointment_id=appointment.id, viewer_id=admin.id)


def test_reschedule_takes_the_new_slot_and_frees_the_old_in_one_step(doctor):
    patient = make_user(Role.PATIENT)
    old_slot, new_slot = slot_at(doctor, days=3), slot_at(doctor, days=4)
    old = book(patient, old_slot)
    new = booking.reschedule_appointment(
        appointment_id=old.id, new_slot_id=new_slot.id, actor_id=patient.id, now=NOW
    )
    assert (old.status, old.cancellation_reason) == (S.CANCELLED, "rescheduled")
    assert new.status is S.CONFIRMED
    assert new.rescheduled_from_id == old.id
    assert (new.fee_amount, new.payment_method) == (old.fee_amount, old.payment_method)
    assert book(make_user(Role.PATIENT), old_slot).status is S.CONFIRMED


def test_reschedule_onto_a_taken_slot_changes_nothing(doctor):
    patient = make_user(Role.PATIENT)
    old_slot, taken = slot_at(doctor, days=3), slot_at(doctor, days=4)
    old = book(patient, old_slot)
    book(make_user(Role.PATIENT), taken)
    with pytest.raises(booking.SlotUnavailable):
        booking.reschedule_appointment(
            appointment_id=old.id, new_slot_id=taken.id, actor_id=patient.id, now=NOW
        )
    db.session.expire_all()
    assert db.session.get(Appointment, old.id).status is S.CONFIRMED
    assert len(active_on(old_slot)) == 1


def test_reschedule_stays_with_the_same_doctor(doctor):
    patient = make_user(Role.PATIENT)
    old = book(patient, slot_at(doctor))
    elsewhere = slot_at(make_doctor(), days=5)
    with pytest.raises(InvalidInput, match="same doctor"):
        booking.reschedule_appointment(
            appointment_id=old.id, new_slot_id=elsewhere.id, actor_id=patient.id, now=NOW
        )


def test_doctor_approves_or_rejects_requests(ctx):
    doctor = make_doctor(requires_approval=True)
    first = book(make_user(Role.PATIENT), slot_at(doctor, days=3))
    second = book(make_user(Role.PATIENT), slot_at(doctor, days=4))
    booking.approve_appointment(appointment_id=first.id, actor_id=doctor.user_id, now=NOW)
    booking.reject_appointment(appointment_id=second.id, actor_id=doctor.user_id, now=NOW)
    assert (first.status, second.status) == (S.CONFIRMED, S.REJECTED)
    with pytest.raises(Forbidden):
        booking.approve_appointment(appointment_id=first.id, actor_id=first.patient_id, now=NOW)
    with pytest.raises(policy.InvalidTransition):
        booking.approve_appointment(appointment_id=first.id, actor_id=doctor.user_id, now=NOW)


def test_outcome_is_recorded_only_after_the_start(doctor):
    appointment = book(make_user(Role.PATIENT), slot_at(doctor))
    with pytest.raises(policy.InvalidTransition, match="started"):
        booking.record_outcome(
            appointment_id=appointment.id, outcome=S.COMPLETED, actor_id=doctor.user_id, now=NOW
        )
    after = appointment.starts_at + timedelta(minutes=5)
    booking.record_outcome(
        appointment_id=appointment.id, outcome=S.NO_SHOW, actor_id=doctor.user_id, now=after
    )
    assert appointment.status is S.NO_SHOW


def test_a_freed_slot_tells_the_waitlist_once(doctor):
    patient = make_user(Role.PATIENT)
    waiting = make_user(Role.PATIENT)
    appointment = book(patient, slot_at(doctor, days=3))
    local_day = appointment.starts_at.astimezone(ZoneInfo(doctor.clinic.timezone)).date()
    entry = booking.join_waitlist(
        patient_id=waiting.id, doctor_id=doctor.id, day=local_day, now=NOW
    )
    again = booking.join_waitlist(
        patient_id=waiting.id, doctor_id=doctor.id, day=local_day, now=NOW
    )
    assert again.id == entry.id
    booking.cancel_appointment(appointment_id=appointment.id, actor_id=patient.id, now=NOW)
    told = db.session.scalars(
        select(Notification).where(
            Notification.kind == "waitlist.slot_free",
            Notification.channel == NotificationChannel.IN_APP,
        )
    ).all()
    assert [(n.user_id, n.kind) for n in told] == [(waiting.id, "waitlist.slot_free")]
    assert told[0].data["slot_id"] == appointment.slot_id
    assert entry.notified_at == NOW


def _waiting_for(doctor, appointment):
    waiting = make_user(Role.PATIENT)
    local_day = appointment.starts_at.astimezone(ZoneInfo(doctor.clinic.timezone)).date()
    booking.join_waitlist(patient_id=waiting.id, doctor_id=doctor.id, day=local_day, now=NOW)
    return waiting


def _told(kind="waitlist.slot_free") -> list[tuple[int, int]]:
    return [
        (n.user_id, n.data["slot_id"])
        for n in db.session.scalars(
            select(Notification).where(
                Notification.kind == kind, Notification.channel == NotificationChannel.IN_APP
            )
        )
    ]


def test_a_slot_freed_by_a_rejection_tells_the_waitlist(ctx):
    doctor = make_doctor(clinic=make_clinic(), requires_approval=True)
    request = book(make_user(Role.PATIENT), slot_at(doctor, days=3))
    assert request.status is S.PENDING_APPROVAL
    waiting = _waiting_for(doctor, request)
    booking.reject_appointment(appointment_id=request.id, actor_id=doctor.user_id, now=NOW)
    assert _told() == [(waiting.id, request.slot_id)]


def test_a_slot_freed_by_a_reschedule_tells_the_waitlist_of_the_old_day(doctor):
    patient = make_user(Role.PATIENT)
    appointment = book(patient, slot_at(doctor, days=3))
    waiting = _waiting_for(doctor, appointment)
    moved = booking.reschedule_appointment(
        appointment_id=appointment.id,
        new_slot_id=slot_at(doctor, days=5).id,
        actor_id=patient.id,
        now=NOW,
    )
    assert moved.slot_id != appointment.slot_id
    assert _told() == [(waiting.id, appointment.slot_id)]


def test_waitlist_refuses_past_days(doctor):
    with pytest.raises(InvalidInput, match="passed"):
        booking.join_waitlist(
            patient_id=make_user(Role.PATIENT).id,
            doctor_id=doctor.id,
            day=(NOW - timedelta(days=2)).date(),
            now=NOW,
        )


def test_expire_lapsed_holds_is_repeatable(doctor):
    hold = make_appointment(
        slot_at(doctor), status=S.PENDING_PAYMENT, hold_expires_at=NOW - timedelta(seconds=1)
    )
    live = make_appointment(
        slot_at(doctor, days=4),
        status=S.PENDING_PAYMENT,
        hold_expires_at=NOW + timedelta(minutes=1),
    )
    assert booking.expire_lapsed_holds(now=NOW) == 1
    assert booking.expire_lapsed_holds(now=NOW) == 0
    db.session.expire_all()
    assert db.session.get(Appointment, hold.id).status is S.EXPIRED
    assert db.session.get(Appointment, live.id).status is S.PENDING_PAYMENT


def test_allowed_actions_follow_role_time_and_policy(doctor):
    patient = make_user(Role.PATIENT)
    appointment = book(patient, slot_at(doctor, days=3))
    assert booking.allowed_actions(appointment, patient, NOW) == ["cancel", "reschedule", "rebook"]
    inside = appointment.starts_at - timedelta(hours=2)
    assert booking.allowed_actions(appointment, patient, inside) == ["rebook"]
    after = appointment.starts_at + timedelta(minutes=1)
    assert booking.allowed_actions(appointment, doctor.user, after) == ["complete", "no_show"]
    assert booking.allowed_actions(appointment, make_user(Role.PATIENT), NOW) == []


def test_an_unverified_account_cannot_book(doctor):
    from sqlalchemy import null

    from app.services.accounts.accounts import AccountNotVerified

    patient = make_user(Role.PATIENT, email_verified_at=null())  # None would take the default
    with pytest.raises(AccountNotVerified):
        book(patient, slot_at(doctor))
    with pytest.raises(AccountNotVerified):
        booking.join_waitlist(patient_id=patient.id, doctor_id=doctor.id, day=NOW.date(), now=NOW)


def test_booking_inside_the_no_change_window_needs_the_acknowledgement(doctor):
    patient = make_user(Role.PATIENT)
    tonight = slot_at(doctor, days=0, hour=17)  # 5 hours away, the window is 24
    with pytest.raises(policy.PolicyNotAcknowledged) as refused:
        book(patient, tonight)
    assert refused.value.status_code == 422
    assert "24 hours" in refused.value.message
    assert active_on(tonight) == []
    booked = booking.book_slot(
        patient_id=patient.id,
        slot_id=tonight.id,
        payment_method="cash",
        notes=None,
        now=NOW,
        acknowledge_policy=True,
    )
    assert booked.status is S.CONFIRMED
    assert book(make_user(Role.PATIENT), slot_at(doctor, days=2)).status is S.CONFIRMED


def test_a_patient_moving_into_the_window_must_acknowledge_but_the_doctor_need_not(doctor):
    patient = make_user(Role.PATIENT)
    old = book(patient, slot_at(doctor, days=3))
    tonight = slot_at(doctor, days=0, hour=17)
    with pytest.raises(policy.PolicyNotAcknowledged):
        booking.reschedule_appointment(
            appointment_id=old.id, new_slot_id=tonight.id, actor_id=patient.id, now=NOW
        )
    db.session.refresh(old)
    assert old.status is S.CONFIRMED and active_on(tonight) == []
    moved = booking.reschedule_appointment(
        appointment_id=old.id,
        new_slot_id=tonight.id,
        actor_id=patient.id,
        now=NOW,
        acknowledge_policy=True,
    )
    assert moved.slot_id == tonight.id
    back = booking.reschedule_appointment(
        appointment_id=moved.id, new_slot_id=old.slot_id, actor_id=doctor.user_id, now=NOW
    )
    assert back.slot_id == old.slot_id
