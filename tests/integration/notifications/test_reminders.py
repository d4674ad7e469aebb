"""Reminders: due at the right instant (across DST), once per visit × offset × channel even
when sweeps race, never for a cancelled or moved visit, never long after their moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import AppointmentStatus, Notification, NotificationChannel, Role
from app.services.notifications import outbox, reminders
from app.services.scheduling import booking
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user

EMAIL = NotificationChannel.EMAIL


def _reminders(channel=EMAIL) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(Notification).where(
                Notification.kind == "appointment.reminder", Notification.channel == channel
            )
        )
    )


def _sweep(runner, now: datetime) -> str:
    result = runner.invoke(args=["send-reminders", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_reminders_across_the_spring_change_come_at_the_right_instant(
    mail_config, inbox, runner, ctx
):
    berlin = make_clinic(timezone="Europe/Berlin", city="Berlin")
    doctor = make_doctor(clinic=berlin)
    # 09:00 CEST on the first day of summer time: 07:00 UTC. The day before is still CET, so
    # 24 hours earlier is 07:00 UTC = 08:00 local, not 09:00.
    start = datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    appointment = make_appointment(make_slot(doctor, start=start), make_user(Role.PATIENT))
    day_before = start - timedelta(hours=24)

    assert "0 notification(s)" in _sweep(runner, day_before - timedelta(minutes=1))
    assert "2 notification(s)" in _sweep(runner, day_before)  # email and in-app
    assert "0 notification(s)" in _sweep(runner, day_before + timedelta(minutes=1))
    assert "2 notification(s)" in _sweep(runner, start - timedelta(hours=2))

    mails = inbox.to(appointment.patient.email)
    assert [m.subject.startswith("Reminder: ") for m in mails] == [True, True]
    assert "Sun 28 Mar 2027, 09:00 CEST (Europe/Berlin)" in mails[0].subject
    assert mails[0].message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/notifications/unsubscribe/" in mails[0].message["List-Unsubscribe"]
    assert sorted(n.data["offset_minutes"] for n in _reminders()) == [120, 1440]


def test_the_autumn_change_too(mail_config, runner, ctx):
    new_york = make_clinic(timezone="America/New_York")
    doctor = make_doctor(clinic=new_york)
    # 09:00 EST on 7 Nov 2027 (clocks went back at 02:00): 14:00 UTC. 24 hours earlier is
    # 14:00 UTC = 10:00 EDT local, not 09:00.
    start = datetime(2027, 11, 7, 14, 0, tzinfo=UTC)
    make_appointment(make_slot(doctor, start=start), make_user(Role.PATIENT))
    assert "0 notification(s)" in _sweep(runner, datetime(2027, 11, 6, 13, 59, tzinfo=UTC))
    assert "2 notification(s)" in _sweep(runner, datetime(2027, 11, 6, 14, 0, tzinfo=UTC))


def test_a_reminder_long_past_its_moment_is_not_sent_and_cancelled_visits_get_none(
    mail_config, runner, ctx
):
    doctor = make_doctor()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    late = make_appointment(make_slot(doctor, start=start), make_user(Role.PATIENT))
    make_appointment(
        make_slot(make_doctor(), start=start),
        make_user(Role.PATIENT),
        status=AppointmentStatus.CANCELLED,
    )
    # Ten minutes before the visit: neither "tomorrow" nor "in two hours" makes sense now.
    _sweep(runner, start - timedelta(minutes=10))
    assert _reminders() == []
    _sweep(runner, start - timedelta(hours=2))  # on time: the confirmed one only
    assert {n.data["appointment_id"] for n in _reminders()} == {late.id}


def test_a_moved_visit_is_reminded_of_its_new_time_only(mail_config, inbox, runner, ctx):
    doctor = make_doctor(clinic=make_clinic(cancellation_window_hours=1))
    patient = make_user(Role.PATIENT)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    old = booking.book_slot(
        patient_id=patient.id,
        slot_id=make_slot(doctor, start=start).id,
        payment_method="cash",
        notes=None,
        now=datetime.now(UTC),
    )
    _sweep(runner, start - timedelta(hours=24))  # the old time's day-before reminder went
    moved = booking.reschedule_appointment(
        appointment_id=old.id,
        new_slot_id=make_slot(doctor, start=start + timedelta(days=1)).id,
        actor_id=patient.id,
        now=datetime.now(UTC),
    )
    _sweep(runner, start - timedelta(hours=2))  # the old time's 2 h mark: nothing
    _sweep(runner, moved.starts_at - timedelta(hours=24))
    _sweep(runner, moved.starts_at - timedelta(hours=2))
    by_visit = sorted((n.data["appointment_id"], n.data["offset_minutes"]) for n in _reminders())
    assert by_visit == [(old.id, 1440), (moved.id, 120), (moved.id, 1440)]


def test_two_sweeps_at_the_same_moment_write_each_reminder_once(app, mail_config, inbox, ctx):
    doctor = make_doctor()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    visits = [
        make_appointment(make_slot(doctor, start=start + timedelta(minutes=30 * i)))
        for i in range(12)
    ]
    moment = visits[-1].starts_at - timedelta(hours=24)  # every visit's 24 h mark has come
    barrier = threading.Barrier(2)
    counts = []

    def sweep():
        with app.app_context():
            barrier.wait()
            counts.append(reminders.send_due(now=moment))
            outbox.flush_ready()
            db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(counts) == 24  # 12 visits × (email + in-app), whoever wrote them
    assert len(_reminders()) == 12
    ids = [m.message["Message-ID"] for m in inbox.messages]
    assert len(ids) == len(set(ids)) == 12
