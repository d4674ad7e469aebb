"""Hold expiry and reconciliation: safe twice and side by side."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from app.extensions import db
from app.models import Appointment, AppointmentStatus, PaymentStatus
from app.services.payments import gateway, settle
from app.services.scheduling import expiry

S = AppointmentStatus


def test_expiry_cancels_the_intent_of_an_unpaid_hold_and_can_run_twice(hold, now):
    later = now + timedelta(minutes=6)
    first = expiry.expire(now=later)
    second = expiry.expire(now=later)
    assert first.expired_holds == 1 and first.settled == {"released": 1}
    assert second.expired_holds == 0 and second.settled == {}
    assert db.session.get(Appointment, hold.appointment.id).status is S.EXPIRED
    payment = settle.latest_payment(hold.appointment.id)
    assert payment.status is PaymentStatus.CANCELED
    assert gateway.retrieve_intent(payment.stripe_payment_intent_id).status == "canceled"


def test_expiry_jobs_side_by_side(app, hold, now):
    later = now + timedelta(minutes=6)

    def run(_):
        with app.app_context():
            try:
                return expiry.expire(now=later)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=3) as pool:
        reports = list(pool.map(run, range(3)))
    assert sum(r.expired_holds for r in reports) == 1
    assert sum(r.failures for r in reports) == 0
    db.session.expire_all()
    assert settle.latest_payment(hold.appointment.id).status is PaymentStatus.CANCELED


def test_reconcile_confirms_a_payment_whose_page_never_returned(hold, authorize, runner, now):
    authorize(hold)
    later = now + timedelta(minutes=6)
    report = expiry.reconcile(now=later)
    assert report.settled == {"confirmed": 1}
    assert db.session.get(Appointment, hold.appointment.id).status is S.CONFIRMED
    result = runner.invoke(args=["reconcile-payments"])
    assert result.exit_code == 0, result.output


def test_expire_holds_command_reports(runner, hold):
    result = runner.invoke(args=["expire-holds"])
    assert result.exit_code == 0, result.output
    assert "Expired 0 lapsed hold(s)." in result.output
