"""/admin/notifications: the outbox as staff see it (filters, pages, masked numbers), a retry
that really delivers a failed notification, and who may open it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditLog,
    Notification,
    NotificationChannel,
    NotificationStatus,
    Role,
)
from tests.factories import make_outbox_row, make_user
from tests.integration.admin.conftest import TOTP_SECRET, make_admin, make_helper, sign_in

C = NotificationChannel
St = NotificationStatus


def _rows(page: str) -> int:
    return page.count('data-testid="notification-row"')


def test_the_log_is_filtered_by_user_kind_channel_status_and_dates(web, admin):
    ana = make_user(
        Role.PATIENT, name="Ana Lima", email="ana.lima@example.com", phone="+447911123456"
    )
    ben = make_user(Role.PATIENT, name="Ben Okafor", email="ben@example.com")
    make_outbox_row(ana, kind="appointment.confirmed", status=St.SENT)
    make_outbox_row(ana, kind="appointment.cancelled", channel=C.SMS, status=St.FAILED)
    make_outbox_row(ben, kind="appointment.confirmed", channel=C.IN_APP, status=St.SENT)
    old = make_outbox_row(ben, kind="payment.refunded", status=St.PENDING)
    old.created_at = datetime(2020, 1, 15, 12, tzinfo=UTC)
    db.session.commit()

    def search(**args) -> str:
        response = web.get("/admin/notifications", query_string=args)
        assert response.status_code == 200, args
        return response.get_data(as_text=True)

    everything = search()
    assert _rows(everything) == 4
    assert everything.index("appointment.cancelled") < everything.index("payment.refunded")
    # phone numbers are partly hidden, emails shown
    assert "+4479•••••456" in everything and "+447911123456" not in everything
    assert "ana.lima@example.com" in everything
    assert _rows(search(user="ANA.LIMA@")) == 2
    assert _rows(search(user="okafor")) == 2
    assert _rows(search(user="%")) == 0  # taken literally
    assert _rows(search(kind="appointment.confirmed")) == 2
    assert _rows(search(channel="sms")) == 1
    assert _rows(search(channel="in_app")) == 1
    failed = search(status="failed")
    assert _rows(failed) == 1 and "SMTPServerDisconnected" in failed
    assert 'data-testid="retry-notification"' in failed
    assert 'data-testid="retry-notification"' not in search(status="sent")
    assert _rows(search(until="2020-01-15")) == 1
    assert _rows(search(since="2020-01-16")) == 3
    assert _rows(search(since="2020-01-15", until="2020-01-15", user="ben")) == 1
    assert "No notification matches." in search(user="nobody")


def test_bad_filters_are_form_errors_not_server_errors(web, admin):
    for args, message in [
        ({"since": "2030-02-30"}, "Not a valid date value"),
        ({"status": "lost"}, "Not a valid choice"),
        ({"channel": "pigeon"}, "Not a valid choice"),
        ({"kind": "no.such.kind"}, "Not a valid choice"),
        ({"page": "abc"}, "Not a valid integer value"),
        ({"page": "0"}, "Number must be"),
        ({"since": "2030-02-02", "until": "2030-01-01"}, "after its end"),
    ]:
        response = web.get("/admin/notifications", query_string=args)
        assert response.status_code == 422, args
        assert message in response.get_data(as_text=True), args


def test_the_log_is_paginated_newest_first(web, admin):
    patient = make_user(Role.PATIENT)
    start = datetime.now(UTC) - timedelta(days=1)
    for n in range(55):
        make_outbox_row(patient, created_at=start + timedelta(minutes=n), data={"n": n})
    first = web.get("/admin/notifications").get_data(as_text=True)
    second = web.get("/admin/notifications?page=2").get_data(as_text=True)
    assert _rows(first) == 50 and _rows(second) == 5
    assert "Page 1 of 2 · 55 in all" in first
    newest, oldest = (
        db.session.scalars(
            select(Notification.id).order_by(Notification.created_at.desc()).limit(1)
        ).one(),
        db.session.scalars(select(Notification.id).order_by(Notification.created_at)).first(),
    )
    assert f"#{newest}<" in first and f"#{oldest}<" in second


def test_retrying_a_failed_notification_delivers_it_and_is_audited(web, admin, inbox):
    patient = make_user(Role.PATIENT, name="Ana Lima", email="ana@example.com")
    row = make_outbox_row(patient, status=St.FAILED)

    response = web.post(
        f"/admin/notifications/{row.id}/retry?status=failed", follow_redirects=False
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/notifications?status=failed")

    [mail] = inbox.to("ana@example.com")
    assert mail.subject == "Your Carebook password was changed"
    db.session.refresh(row)
    assert row.status is St.SENT and row.attempts == 1 and row.last_error is None
    [entry] = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "notification.retried")
    ).all()
    assert entry.actor_id == admin.id and entry.target_id == str(row.id)
    assert entry.data["attempts"] == 3
    page = web.get("/admin/notifications").get_data(as_text=True)
    assert f"Notification {row.id} was sent again." in page


def test_only_a_failed_notification_can_be_retried(web, admin, inbox):
    sent = make_outbox_row(status=St.SENT)
    page = web.post(f"/admin/notifications/{sent.id}/retry", follow_redirects=True)
    assert page.status_code == 200
    assert "Only a failed notification can be retried; this one is sent." in page.get_data(
        as_text=True
    )
    missing = web.post("/admin/notifications/999999/retry", follow_redirects=True)
    assert "There is no such notification." in missing.get_data(as_text=True)
    assert inbox.messages == []
    assert (
        db.session.scalars(select(AuditLog).where(AuditLog.action == "notification.retried")).all()
        == []
    )


def test_with_a_queue_the_retry_goes_to_the_worker(
    make_app, database_url, redis_url, smtp_server, inbox, ctx
):
    queued_app = make_app(
        database_url, REDIS_URL=redis_url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port
    )
    web = queued_app.test_client()
    sign_in(web, make_admin())
    row = make_outbox_row(make_user(email="ben@example.com"), status=St.FAILED)

    page = web.post(f"/admin/notifications/{row.id}/retry", follow_redirects=True)
    assert f"Notification {row.id} is back on the queue." in page.get_data(as_text=True)
    assert inbox.to("ben@example.com") == []  # nothing left from the web request
    connection = Redis.from_url(redis_url)
    queue = Queue("notifications", connection=connection)
    assert queue.count == 1

    with queued_app.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True)
    assert len(inbox.to("ben@example.com")) == 1
    db.session.refresh(row)
    assert row.status is St.SENT


def test_helpers_need_the_permission_and_the_menu_shows_only_what_they_hold(web):
    without = make_helper("payments.view", totp_secret=TOTP_SECRET)
    sign_in(web, without)
    assert web.get("/admin/notifications").status_code == 403
    assert web.get("/admin/queues").status_code == 403
    assert web.post("/admin/notifications/1/retry").status_code == 403
    assert 'href="/admin/notifications"' not in web.get("/admin/payments").get_data(as_text=True)
    web.post("/logout")

    holder = make_helper("notifications.view", "payments.view", totp_secret=TOTP_SECRET)
    sign_in(web, holder)
    page = web.get("/admin/notifications")
    assert page.status_code == 200
    assert web.get("/admin/queues").status_code == 200
    menu = web.get("/admin/payments").get_data(as_text=True)
    assert 'href="/admin/notifications"' in menu and 'href="/admin/queues"' in menu
