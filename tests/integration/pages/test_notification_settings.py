"""/notifications/settings (the preferences grid) and the one-click unsubscribe page of emails
(RFC 8058): what they save, and what outbox.notify then writes or leaves out."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.models import Notification, NotificationChannel, NotificationPreference, Role
from app.services.notifications import outbox, preferences
from app.services.transaction import transaction
from tests.factories import make_appointment, make_user

C = NotificationChannel


def _choices(user_id: int) -> dict[tuple[str, NotificationChannel], bool]:
    rows = db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    return {(row.category, row.channel): row.enabled for row in rows}


def _channels_written(user, kind: str, key: str) -> set[NotificationChannel]:
    with transaction():
        outbox.notify(user, kind, key=key, data={"appointment_id": 1})
    rows = db.session.scalars(select(Notification).where(Notification.dedupe_key.startswith(key)))
    return {row.channel for row in rows}


def test_the_grid_shows_every_optional_category_on_the_channels_it_is_sent_on(client, auth):
    auth.login(make_user(Role.PATIENT).email)

    page = client.get("/notifications/settings").get_data(as_text=True)

    # Reminders and waitlist openings go by email, text and in-app; bookings, review requests
    # and chat messages never by text message, so those rows have no text box.
    assert page.count('type="checkbox"') == 12 and page.count(" checked") == 12
    for missing in ("appointments", "reviews", "messages"):
        assert f'id="pref-{missing}-sms"' not in page
    assert "Messages from your doctor or patient: not sent by" in page
    for label in (
        "Visit reminders",
        "Waitlist openings",
        "Bookings, approvals and changes",
        "Requests to review a visit",
        "Messages from your doctor or patient",
    ):
        assert label in page
    assert "receipts" in page and "cancellations always go" in page
    assert "confirmed mobile number" in page
    assert '<label for="pref-reminders-sms" class="visually-hidden">' in page


def test_saving_the_grid_turns_off_what_is_unticked(client, auth):
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    ticked = ["appointments:email", "appointments:in_app",
              "reminders:in_app", "waitlist:email", "waitlist:sms", "waitlist:in_app",
              "reviews:email", "reviews:in_app",
              "messages:email", "messages:in_app"]  # fmt: skip

    response = client.post("/notifications/settings", data={"on": ticked})

    assert response.status_code == 302
    choices = _choices(patient.id)
    assert len(choices) == 12
    assert {cell for cell, on in choices.items() if not on} == {
        ("reminders", C.EMAIL),
        ("reminders", C.SMS),
    }
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Your notification settings are saved." in page
    assert page.count(" checked") == 10
    assert 'value="reminders:email">' in page  # unticked now
    # What the outbox then writes for this patient.
    assert _channels_written(patient, "appointment.reminder", "r1") == {C.IN_APP}


def test_a_setting_that_names_no_cell_is_refused_and_nothing_is_saved(client, auth):
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)

    for bogus in ("reminders:fax", "billing:email", "nonsense", "messages:sms"):
        response = client.post("/notifications/settings", data={"on": ["waitlist:email", bogus]})
        assert response.status_code == 422, bogus
        assert "Unknown notification" in response.get_data(as_text=True)
    assert _choices(patient.id) == {}


def test_the_settings_form_needs_its_csrf_token(make_app, database_url, ctx):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    patient = make_user(Role.PATIENT)
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": patient.email, "password": "correct-horse-battery",
                                "csrf_token": token})  # fmt: skip

    response = client.post("/notifications/settings", data={"on": []})

    assert response.status_code == 400
    assert _choices(patient.id) == {}


def _unsubscribe_path(user_id: int, category: str = "reminders") -> str:
    return urlsplit(preferences.unsubscribe_url(user_id, category)).path


def test_the_unsubscribe_link_asks_first_then_turns_that_email_off(client):
    patient = make_user(Role.PATIENT)
    path = _unsubscribe_path(patient.id)
    assert path.startswith("/notifications/unsubscribe/")

    page = client.get(path)

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Unsubscribe from these emails?" in text and "Visit reminders" in text
    assert _choices(patient.id) == {}  # a GET (a link scanner) changes nothing

    done = client.post(path)

    assert done.status_code == 200
    assert "You are unsubscribed" in done.get_data(as_text=True)
    assert _choices(patient.id) == {("reminders", C.EMAIL): False}


def test_one_click_unsubscribe_works_without_a_session_or_csrf_token(make_app, database_url, ctx):
    """RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`, nothing else."""
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    appointment = make_appointment()
    patient = appointment.patient
    path = _unsubscribe_path(patient.id)

    response = app.test_client().post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert _choices(patient.id) == {("reminders", C.EMAIL): False}
    # A later reminder is not emailed (but still shows in the app); a cancellation is.
    assert _channels_written(patient, "appointment.reminder", "later-reminder") == {C.IN_APP}
    assert _channels_written(patient, "appointment.cancelled", "later-cancel") == {
        C.EMAIL,
        C.IN_APP,
    }


def test_a_bad_unsubscribe_token_is_a_404_page(client):
    patient = make_user(Role.PATIENT)
    good = _unsubscribe_path(patient.id)
    forged = good[:-3] + ("abc" if not good.endswith("abc") else "xyz")
    unknown_category = _unsubscribe_path(patient.id, "billing")
    gone = _unsubscribe_path(999_999)

    for path in (forged, "/notifications/unsubscribe/not-a-token", unknown_category):
        for method in ("GET", "POST"):
            response = client.open(path, method=method)
            assert response.status_code == 404, (method, path)
            assert "This unsubscribe link is not valid." in response.get_data(as_text=True)
    assert client.post(gone).status_code == 404
    assert _choices(patient.id) == {}
