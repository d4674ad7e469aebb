"""The clinic's change policy and the refund rule as pure functions: no database, no Stripe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Appointment, AppointmentStatus, Clinic, Doctor, User
from app.services.scheduling.policy import (
    InvalidTransition,
    PolicyNotAcknowledged,
    PolicyWindowClosed,
    cancellation_refund,
    change_deadline,
    inside_window,
    policy_for,
    require_acknowledged,
    window_terms,
)

S = AppointmentStatus
START = datetime(2031, 5, 10, 15, tzinfo=UTC)
PATIENT = User(id=1)
DOCTOR = User(id=2)


def visit(status=S.CONFIRMED, *, window=24, late=None, clinic=True, hold_until=None) -> Appointment:
    doctor = Doctor(
        clinic=Clinic(cancellation_window_hours=window, late_cancellation_refund_percent=late)
        if clinic
        else None
    )
    return Appointment(
        patient_id=PATIENT.id,
        starts_at=START,
        ends_at=START + timedelta(minutes=30),
        status=status,
        hold_expires_at=hold_until,
        doctor=doctor,
    )


def before(hours: float) -> datetime:
    return START - timedelta(hours=hours)


def test_the_patient_changes_online_until_the_deadline():
    rules = policy_for(visit(), PATIENT, before(25))
    assert rules.deadline == before(24)
    assert (rules.can_cancel, rules.can_reschedule) == (True, True)
    assert rules.refund_for(10000) == 10000


def test_inside_the_window_the_patient_can_do_neither_without_a_late_share():
    rules = policy_for(visit(), PATIENT, before(2))
    assert isinstance(rules.cancel_refusal, PolicyWindowClosed)
    assert "cancellation closes 24 hours" in rules.cancel_refusal.message
    assert "rescheduling closes 24 hours" in rules.reschedule_refusal.message
    assert rules.refund_for(10000) == 0


def test_a_late_share_lets_the_patient_cancel_inside_the_window_but_not_reschedule():
    rules = policy_for(visit(late=30), PATIENT, before(2))
    assert rules.can_cancel and not rules.can_reschedule
    assert rules.refund_for(9999) == 2999  # rounded down


def test_the_doctor_and_staff_are_held_to_no_window_and_refund_in_full():
    for actor in (DOCTOR, None):
        rules = policy_for(visit(), actor, before(1))
        assert (rules.can_cancel, rules.can_reschedule) == (True, True)
        assert rules.refund_for(10000) == 10000


def test_an_unpaid_hold_can_be_released_until_it_lapses_but_never_moved():
    hold = visit(S.PENDING_PAYMENT, hold_until=before(1))
    live = policy_for(hold, PATIENT, before(2))
    assert live.can_cancel
    assert isinstance(live.reschedule_refusal, InvalidTransition)
    lapsed = policy_for(hold, PATIENT, before(0.5))
    assert "Only upcoming" in lapsed.cancel_refusal.message


@pytest.mark.parametrize("status", [S.CANCELLED, S.COMPLETED, S.REJECTED, S.EXPIRED])
def test_a_finished_visit_is_neither_cancelled_nor_moved(status):
    rules = policy_for(visit(status), DOCTOR, before(48))
    assert isinstance(rules.cancel_refusal, InvalidTransition)
    assert isinstance(rules.reschedule_refusal, InvalidTransition)


def test_nothing_changes_once_the_visit_has_started():
    rules = policy_for(visit(), DOCTOR, START)
    assert "already started" in rules.cancel_refusal.message
    assert "already started" in rules.reschedule_refusal.message


def test_a_doctor_without_a_clinic_has_no_window():
    rules = policy_for(visit(clinic=False), PATIENT, before(0.1))
    assert (rules.deadline, rules.late_percent) == (START, None)
    assert rules.can_cancel and rules.can_reschedule


def test_the_refund_rule():
    deadline = before(24)
    kwargs = {"amount_captured": 5000, "deadline": deadline}
    assert cancellation_refund(by_patient=True, now=before(30), late_percent=None, **kwargs) == 5000
    assert cancellation_refund(by_patient=True, now=before(2), late_percent=None, **kwargs) == 0
    assert cancellation_refund(by_patient=True, now=before(2), late_percent=50, **kwargs) == 2500
    assert cancellation_refund(by_patient=False, now=before(2), late_percent=None, **kwargs) == 5000


def test_a_slot_is_inside_the_window_from_its_deadline_on():
    clinic = Clinic(cancellation_window_hours=24, late_cancellation_refund_percent=None)
    assert not inside_window(START, clinic, before(24.01))
    assert inside_window(START, clinic, before(24))
    assert inside_window(START, clinic, before(1))
    assert change_deadline(START, clinic) == before(24)


def test_no_clinic_or_no_window_means_never_inside_it():
    assert not inside_window(START, None, before(0.1))
    assert not inside_window(START, Clinic(cancellation_window_hours=0), before(0.1))


def test_the_window_terms_say_the_hours_and_what_is_left_inside():
    closed = window_terms(Clinic(cancellation_window_hours=24))
    assert "24 hours" in closed and "no online changes" in closed
    late = window_terms(Clinic(cancellation_window_hours=12, late_cancellation_refund_percent=40))
    assert "12 hours" in late and "refunds 40%" in late
    assert "until it starts" in window_terms(None)


def test_taking_a_slot_inside_the_window_needs_the_acknowledgement():
    clinic = Clinic(cancellation_window_hours=24)
    require_acknowledged(START, clinic, before(30), acknowledged=False)  # outside: no question
    require_acknowledged(START, clinic, before(2), acknowledged=True)
    with pytest.raises(PolicyNotAcknowledged) as refused:
        require_acknowledged(START, clinic, before(2), acknowledged=False)
    assert refused.value.status_code == 422
    assert refused.value.code == "policy_not_acknowledged"
    assert refused.value.details == {"field": "acknowledge_policy"}
