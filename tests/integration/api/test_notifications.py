"""GET /api/v1/notifications, POST /notifications/{id}/read and /notifications/read-all:
the caller's own in-app notifications (issue 9's contract)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import Notification, NotificationChannel, Role
from tests.factories import make_appointment, make_notification, make_user
from tests.integration.api.helpers import assert_error

ITEM_KEYS = {"id", "kind", "title", "body", "url", "created_at", "read_at"}


def _at(minutes_ago: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes_ago)


def test_the_list_is_the_callers_own_newest_first_with_the_unread_count(client, bearer):
    appointment = make_appointment()
    patient = appointment.patient
    older = make_notification(patient, "appointment.confirmed", appointment=appointment,
                              created_at=_at(30))  # fmt: skip
    newer = make_notification(patient, "appointment.approved", appointment=appointment,
                              created_at=_at(5))  # fmt: skip
    make_notification(patient, appointment=appointment, created_at=_at(10), read_at=_at(1))
    make_notification(patient, appointment=appointment, channel=NotificationChannel.EMAIL)
    make_notification(make_user(Role.PATIENT), appointment=appointment)  # someone else's

    response = client.get("/api/v1/notifications", headers=bearer(patient))

    assert response.status_code == 200
    body = response.get_json()
    assert body["unread"] == 2
    assert [item["id"] for item in body["items"]][0] == newer.id
    assert [item["id"] for item in body["items"]][-1] == older.id
    assert len(body["items"]) == 3  # in-app only, and only the caller's
    item = body["items"][0]
    assert set(item) == ITEM_KEYS
    assert item["kind"] == "appointment.approved"
    assert item["title"].startswith("Approved: ")
    assert "approved your request" in item["body"]
    assert item["url"].endswith(f"/appointments/{appointment.id}")
    assert item["read_at"] is None
    assert datetime.fromisoformat(item["created_at"]) == newer.created_at
    assert body["items"][1]["read_at"] is not None
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 20, 3, 1)


def test_the_list_is_paginated(client, bearer):
    patient = make_user(Role.PATIENT)
    appointment = make_appointment(patient=patient)
    made = [
        make_notification(patient, appointment=appointment, created_at=_at(60 - n))
        for n in range(5)
    ]
    headers = bearer(patient)

    first = client.get("/api/v1/notifications?per_page=2", headers=headers).get_json()
    last = client.get("/api/v1/notifications?per_page=2&page=3", headers=headers).get_json()

    assert [i["id"] for i in first["items"]] == [made[4].id, made[3].id]
    assert [i["id"] for i in last["items"]] == [made[0].id]
    assert (first["total"], first["pages"], first["unread"]) == (5, 3, 5)
    assert last["unread"] == 5  # the count is of all unread, not of the page
    assert_error(client.get("/api/v1/notifications?per_page=51", headers=headers), 422)
    assert_error(client.get("/api/v1/notifications?page=0", headers=headers), 422)


def test_an_item_whose_appointment_is_gone_still_lists_with_a_generic_title(client, bearer):
    patient = make_user(Role.PATIENT)
    make_notification(patient, "appointment.approved", data={"appointment_id": 999_999})
    make_notification(patient, "retired.kind")

    body = client.get("/api/v1/notifications", headers=bearer(patient)).get_json()

    titles = sorted(item["title"] for item in body["items"])
    assert titles == ["A notification", "An update about an appointment"]
    assert all(item["url"] is None and item["body"] == "" for item in body["items"])


def test_reading_one_marks_it_and_lowers_the_count(client, bearer):
    appointment = make_appointment()
    patient = appointment.patient
    first = make_notification(patient, appointment=appointment)
    make_notification(patient, appointment=appointment)
    headers = bearer(patient)

    response = client.post(f"/api/v1/notifications/{first.id}/read", headers=headers)

    assert response.status_code == 200
    item = response.get_json()
    assert set(item) == ITEM_KEYS
    assert item["id"] == first.id and item["read_at"] is not None
    read_at = db.session.get(Notification, first.id).read_at
    assert read_at is not None
    assert client.get("/api/v1/notifications", headers=headers).get_json()["unread"] == 1
    # Reading it again keeps the first moment.
    client.post(f"/api/v1/notifications/{first.id}/read", headers=headers)
    assert db.session.get(Notification, first.id).read_at == read_at


def test_someone_elses_or_an_unknown_or_an_email_notification_is_a_404(client, bearer):
    appointment = make_appointment()
    theirs = make_notification(appointment.patient, appointment=appointment)
    email = make_notification(
        appointment.patient, appointment=appointment, channel=NotificationChannel.EMAIL
    )
    stranger = bearer(make_user(Role.PATIENT))

    for notification_id in (theirs.id, 999_999):
        response = client.post(f"/api/v1/notifications/{notification_id}/read", headers=stranger)
        assert_error(response, 404, "notification_not_found")
    owner = bearer(appointment.patient)
    assert_error(client.post(f"/api/v1/notifications/{email.id}/read", headers=owner), 404)
    assert db.session.get(Notification, theirs.id).read_at is None


def test_read_all_marks_only_the_callers_own(client, bearer):
    appointment = make_appointment()
    patient = appointment.patient
    mine = [make_notification(patient, appointment=appointment) for _ in range(3)]
    other = make_notification(make_user(Role.PATIENT), appointment=appointment)
    headers = bearer(patient)

    response = client.post("/api/v1/notifications/read-all", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"marked": 3, "unread": 0}
    assert all(db.session.get(Notification, n.id).read_at for n in mine)
    assert db.session.get(Notification, other.id).read_at is None
    listed = client.get("/api/v1/notifications", headers=headers).get_json()
    assert listed["unread"] == 0
    assert client.post("/api/v1/notifications/read-all", headers=headers).get_json()["marked"] == 0


def test_the_endpoints_need_a_token(client):
    assert_error(client.get("/api/v1/notifications"), 401)
    assert_error(client.post("/api/v1/notifications/read-all"), 401)
    assert_error(client.post("/api/v1/notifications/1/read"), 401)
