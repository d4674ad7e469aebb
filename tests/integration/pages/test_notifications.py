"""The inbox pages: /notifications lists a user's own in-app notifications, opening one marks
it read and goes where it points (on this site only), the bell in the header counts unread."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from app.extensions import db
from app.models import Notification, Role, UserSession
from app.services.links import site_path
from app.services.notifications.kinds import KINDS, Kind, Message
from tests.factories import make_appointment, make_notification, make_user


def _bell(page: str) -> str:
    match = re.search(r'<a class="bell"[^>]*aria-label="([^"]*)"', page)
    assert match, "no bell in the header"
    return match.group(1)


def test_the_inbox_lists_own_notifications_with_unread_ones_marked(client, auth):
    appointment = make_appointment()
    patient = appointment.patient
    make_notification(patient, "appointment.confirmed", appointment=appointment,
                      read_at=datetime.now(UTC))  # fmt: skip
    make_notification(patient, "appointment.approved", appointment=appointment)
    make_notification(make_user(Role.PATIENT), "appointment.rejected", appointment=appointment)
    auth.login(patient.email)

    page = client.get("/notifications").get_data(as_text=True)

    assert page.count('data-testid="notification"') == 2
    assert page.count('class="unread"') == 1
    assert "Unread: </span>" in page and "Approved: " in page and "Booked: " in page
    assert "Request declined" not in page  # someone else's
    assert "Mark all as read" in page and "1 unread" in page
    assert _bell(page) == "Notifications, 1 unread"


def test_the_inbox_pages_older_notifications(client, auth):
    patient = make_user(Role.PATIENT)
    start = datetime.now(UTC) - timedelta(days=1)
    for n in range(23):
        make_notification(patient, "retired.kind", created_at=start + timedelta(minutes=n))
    auth.login(patient.email)

    first = client.get("/notifications").get_data(as_text=True)
    second = client.get("/notifications?page=2").get_data(as_text=True)

    assert first.count('data-testid="notification"') == 20
    assert "Page 1 of 2" in first and 'href="/notifications?page=2"' in first
    assert second.count('data-testid="notification"') == 3
    assert client.get("/notifications?page=0").status_code == 422


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client, auth):
    appointment = make_appointment()
    notification = make_notification(appointment.patient, appointment=appointment)
    auth.login(appointment.patient.email)
    assert _bell(client.get("/").get_data(as_text=True)) == "Notifications, 1 unread"

    response = client.get(f"/notifications/{notification.id}")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/appointments/{appointment.id}"
    assert db.session.get(Notification, notification.id).read_at is not None
    page = client.get("/").get_data(as_text=True)
    assert _bell(page) == "Notifications"
    assert 'data-testid="bell-count" aria-hidden="true" hidden' in page  # no badge at 0


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/appointments/1",
        "//evil.example/x",
        "/\\evil.example/x",
        "javascript:alert(1)",
        None,
    ],
)
def test_opening_never_leaves_the_site(client, auth, monkeypatch, url):
    monkeypatch.setitem(
        KINDS,
        "test.elsewhere",
        Kind("test.elsewhere", "appointments", False, (), lambda data, user: Message(
            subject="Elsewhere", lines=["Off site"], action=("Go", url) if url else None
        )),
    )  # fmt: skip
    patient = make_user(Role.PATIENT)
    notification = make_notification(patient, "test.elsewhere")
    auth.login(patient.email)

    response = client.get(f"/notifications/{notification.id}")

    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications"
    assert db.session.get(Notification, notification.id).read_at is not None


def test_site_path_keeps_only_links_to_the_public_site(ctx):
    assert site_path("http://127.0.0.1:5000/appointments/3?x=1#top") == "/appointments/3?x=1#top"
    assert site_path("/doctor/appointments/3") == "/doctor/appointments/3"
    for url in ("http://127.0.0.1:5001/a", "https://127.0.0.1:5000/a", "//127.0.0.1:5000/a",
                "/\\evil.example", "a/relative", "/a\r\nSet-Cookie: x=1", ""):  # fmt: skip
        assert site_path(url) is None, url


def test_someone_elses_notification_is_a_404_page(client, auth):
    appointment = make_appointment()
    theirs = make_notification(appointment.patient, appointment=appointment)
    auth.login(make_user(Role.PATIENT).email)

    response = client.get(f"/notifications/{theirs.id}")

    assert response.status_code == 404
    assert "There is no such notification." in response.get_data(as_text=True)
    assert db.session.get(Notification, theirs.id).read_at is None


def test_mark_all_as_read(client, auth):
    appointment = make_appointment()
    for _ in range(3):
        make_notification(appointment.patient, appointment=appointment)
    auth.login(appointment.patient.email)

    response = client.post("/notifications/read-all", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "All notifications are marked as read." in page
    assert "All read" in page and "Mark all as read" not in page
    assert _bell(page) == "Notifications"


def test_the_pages_need_a_sign_in(client):
    for path in ("/notifications", "/notifications/settings", "/notifications/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_the_bell_is_one_count_query_per_page(app, client, auth):
    appointment = make_appointment()
    make_notification(appointment.patient, appointment=appointment)
    auth.login(appointment.patient.email)
    statements = []

    def record(conn, cursor, statement, *args):
        if "notifications" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = client.get("/appointments").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    assert _bell(page) == "Notifications, 1 unread"
    assert len(statements) == 1 and "count(" in statements[0].lower(), statements


def test_the_unread_count_poll(client, auth):
    patient = make_user(Role.PATIENT)
    make_notification(patient)
    make_notification(patient)
    auth.login(patient.email)

    response = client.get("/notifications/unread-count")

    assert response.status_code == 200 and response.get_json() == {"unread": 2}


def test_the_poll_does_not_keep_an_idle_session_alive(client, auth):
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    db.session.execute(update(UserSession).values(last_seen_at=earlier))
    db.session.commit()

    assert client.get("/notifications/unread-count").status_code == 200
    seen = db.session.scalar(select(UserSession.last_seen_at))
    assert seen == earlier  # a poll is not activity
    client.get("/notifications")
    assert db.session.scalar(select(UserSession.last_seen_at)) > earlier


def test_a_signed_out_poll_gets_a_json_401_and_no_flash(client):
    response = client.get("/notifications/unread-count", headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "Please sign in" not in client.get("/login").get_data(as_text=True)


def test_the_account_page_links_the_notification_settings(client, auth):
    auth.login(make_user(Role.PATIENT).email)
    page = client.get("/account").get_data(as_text=True)
    assert 'href="/notifications/settings"' in page


def test_a_page_still_renders_when_the_count_fails(client, auth, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.services.notifications import inbox

    def broken(user_id):
        raise OperationalError("SELECT count(*)", {}, Exception("database went away"))

    auth.login(make_user(Role.PATIENT).email)
    monkeypatch.setattr(inbox, "unread_count", broken)

    response = client.get("/")

    assert response.status_code == 200
    assert _bell(response.get_data(as_text=True)) == "Notifications"
