"""Reviews through the API: who may write, change, reply to and moderate one, and what the
doctors' listings and ratings show afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AppointmentStatus,
    AuditLog,
    Doctor,
    Notification,
    NotificationChannel,
    Review,
    Role,
    UserPermission,
)
from tests.factories import (
    make_appointment,
    make_completed_visit,
    make_doctor,
    make_review,
    make_slot,
    make_user,
)
from tests.integration.api.helpers import assert_error


def _moderator():
    helper = make_user(Role.HELPER, name="Mo Derator")
    helper.permissions.append(UserPermission(permission="reviews.moderate"))
    db.session.commit()
    return helper


def _totals(doctor_id: int) -> tuple[int, int]:
    db.session.expire_all()
    doctor = db.session.get(Doctor, doctor_id)
    return doctor.rating_count, doctor.rating_sum


def test_patient_reviews_a_completed_visit_once(client, bearer):
    visit = make_completed_visit()
    url = f"/api/v1/appointments/{visit.id}/review"
    created = client.post(
        url, json={"rating": 4, "comment": "On time."}, headers=bearer(visit.patient)
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["rating"], body["comment"], body["reply"]) == (4, "On time.", None)
    assert body["appointment_id"] == visit.id
    assert _totals(visit.doctor_id) == (1, 4)

    again = client.post(url, json={"rating": 5}, headers=bearer(visit.patient))
    assert_error(again, 409, "review_exists")
    assert _totals(visit.doctor_id) == (1, 4)


@pytest.mark.parametrize(
    "status", [AppointmentStatus.CANCELLED, AppointmentStatus.CONFIRMED, AppointmentStatus.NO_SHOW]
)
def test_a_visit_not_completed_cannot_be_reviewed(client, bearer, status):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    visit = make_appointment(make_slot(start=start), status=status)
    response = client.post(
        f"/api/v1/appointments/{visit.id}/review", json={"rating": 5}, headers=bearer(visit.patient)
    )
    assert_error(response, 422, "appointment_not_completed")
    assert db.session.scalars(select(Review)).all() == []


def test_someone_elses_visit_is_refused_and_a_missing_one_is_404(client, bearer):
    visit = make_completed_visit()
    stranger = make_user(Role.PATIENT)
    url = f"/api/v1/appointments/{visit.id}/review"
    assert_error(client.post(url, json={"rating": 1}, headers=bearer(stranger)), 403)
    # The doctor of the visit is no patient: the role rule refuses them first.
    assert_error(client.post(url, json={"rating": 5}, headers=bearer(visit.doctor.user)), 403)
    assert_error(
        client.post(
            "/api/v1/appointments/4242/review", json={"rating": 1}, headers=bearer(stranger)
        ),
        404,
    )
    assert_error(client.post(url, json={"rating": 5}), 401)
    assert _totals(visit.doctor_id) == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rating": 0},
        {"rating": 6},
        {"rating": "5"},
        {"rating": 4.5},
        {"rating": 5, "comment": "x" * 2001},
    ],
)
def test_rating_and_comment_are_validated(client, bearer, body):
    visit = make_completed_visit()
    response = client.post(
        f"/api/v1/appointments/{visit.id}/review", json=body, headers=bearer(visit.patient)
    )
    assert_error(response, 422)


def test_a_comment_of_2000_characters_is_stored_as_written(client, bearer):
    visit = make_completed_visit()
    comment = "<b>bold</b> & " + "é" * 1986
    assert len(comment) == 2000
    response = client.post(
        f"/api/v1/appointments/{visit.id}/review",
        json={"rating": 3, "comment": comment},
        headers=bearer(visit.patient),
    )
    assert response.status_code == 201
    assert db.session.scalar(select(Review.comment)) == comment


def test_author_edits_within_14_days_and_not_after(client, bearer):
    visit = make_completed_visit()
    fresh = make_review(visit, rating=2)
    response = client.patch(
        f"/api/v1/reviews/{fresh.id}",
        json={"rating": 5, "comment": None},
        headers=bearer(visit.patient),
    )
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["rating"], response.get_json()["comment"]) == (5, None)
    assert response.get_json()["edited_at"]
    assert _totals(visit.doctor_id) == (1, 5)

    old_visit = make_completed_visit(visit.doctor, days_ago=30)
    old = make_review(old_visit, rating=4, at=datetime.now(UTC) - timedelta(days=14, minutes=1))
    late = client.patch(
        f"/api/v1/reviews/{old.id}", json={"rating": 1}, headers=bearer(old_visit.patient)
    )
    assert_error(late, 409, "edit_window_closed")
    assert _totals(visit.doctor_id) == (2, 9)


def test_only_the_author_edits(client, bearer):
    review = make_review()
    url = f"/api/v1/reviews/{review.id}"
    assert_error(client.patch(url, json={"rating": 1}, headers=bearer(make_user())), 403)
    assert_error(client.patch(url, json={"rating": 1}, headers=bearer(review.doctor.user)), 403)
    assert_error(
        client.patch("/api/v1/reviews/4242", json={"rating": 1}, headers=bearer(make_user())), 404
    )


def test_the_doctor_replies_once_and_may_change_it(client, bearer):
    review = make_review()
    doctor_user = review.doctor.user
    url = f"/api/v1/reviews/{review.id}/reply"
    first = client.post(url, json={"body": "Thank you!"}, headers=bearer(doctor_user))
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["reply"] == "Thank you!"
    assert_error(
        client.post(url, json={"body": "Again"}, headers=bearer(doctor_user)), 409, "reply_exists"
    )
    changed = client.patch(url, json={"body": "Thanks, see you soon."}, headers=bearer(doctor_user))
    assert changed.get_json()["reply"] == "Thanks, see you soon."

    other_doctor = make_doctor()
    assert_error(client.post(url, json={"body": "Me too"}, headers=bearer(other_doctor.user)), 403)
    assert_error(client.post(url, json={"body": "Me"}, headers=bearer(review.patient)), 403)


def test_moderation_hides_and_restores_changes_the_average_and_tells_the_author(client, bearer):
    doctor = make_doctor()
    kept = make_review(make_completed_visit(doctor), rating=5)
    spam = make_review(make_completed_visit(doctor), rating=1, comment="Buy pills at ...")
    assert client.get(f"/api/v1/doctors/{doctor.id}").get_json()["rating"] == {
        "average": 3.0,
        "count": 2,
    }
    moderator = _moderator()
    hidden = client.post(
        f"/api/v1/reviews/{spam.id}/hide", json={"reason": "Advertising"}, headers=bearer(moderator)
    )
    assert hidden.status_code == 200, hidden.get_json()
    assert hidden.get_json()["hidden"] is True
    assert client.get(f"/api/v1/doctors/{doctor.id}").get_json()["rating"] == {
        "average": 5.0,
        "count": 1,
    }
    listed = client.get(f"/api/v1/doctors/{doctor.id}/reviews").get_json()["items"]
    assert [item["id"] for item in listed] == [kept.id]
    again = client.post(
        f"/api/v1/reviews/{spam.id}/hide", json={"reason": "Twice"}, headers=bearer(moderator)
    )
    assert_error(again, 409)

    told = db.session.scalars(
        select(Notification).where(Notification.user_id == spam.patient_id)
    ).all()
    assert {(n.kind, n.channel) for n in told} >= {
        ("review.hidden", NotificationChannel.IN_APP),
        ("review.hidden", NotificationChannel.EMAIL),
    }
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "review.hidden")).one()
    assert (audit.actor_id, audit.target_id, audit.data["reason"]) == (
        moderator.id,
        str(spam.id),
        "Advertising",
    )

    restored = client.post(f"/api/v1/reviews/{spam.id}/restore", json={}, headers=bearer(moderator))
    assert restored.status_code == 200, restored.get_json()
    assert client.get(f"/api/v1/doctors/{doctor.id}").get_json()["rating"]["count"] == 2
    assert "review.restored" in {n.kind for n in db.session.scalars(select(Notification)).all()}


def test_moderation_needs_the_permission_and_a_reason(client, bearer):
    review = make_review()
    url = f"/api/v1/reviews/{review.id}/hide"
    for caller in (review.patient, review.doctor.user, make_user(Role.HELPER)):
        assert_error(client.post(url, json={"reason": "No"}, headers=bearer(caller)), 403)
    assert_error(client.post(url, json={}, headers=bearer(_moderator())), 422)
    assert_error(client.post(url, json={"reason": "  "}, headers=bearer(_moderator())), 422)
    assert_error(
        client.post(
            "/api/v1/reviews/4242/hide", json={"reason": "x"}, headers=bearer(_moderator())
        ),
        404,
    )
    assert _totals(review.doctor_id) == (1, 5)


def test_doctor_reviews_are_visible_only_newest_first_paginated(client):
    doctor = make_doctor()
    now = datetime.now(UTC)
    older = make_review(make_completed_visit(doctor), rating=3, at=now - timedelta(days=2))
    newer = make_review(make_completed_visit(doctor), rating=4, at=now - timedelta(days=1))
    make_review(make_completed_visit(), rating=1)  # another doctor's
    response = client.get(f"/api/v1/doctors/{doctor.id}/reviews")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["id"] for item in items] == [newer.id, older.id]
    assert set(items[0]) >= {"id", "rating", "comment", "reply", "created_at"}
    second = client.get(f"/api/v1/doctors/{doctor.id}/reviews?per_page=1&page=2").get_json()
    assert ([i["id"] for i in second["items"]], second["total"], second["pages"]) == (
        [older.id],
        2,
        2,
    )
    assert_error(client.get("/api/v1/doctors/4242/reviews"), 404)


def test_search_sorts_by_the_bayesian_average(client):
    one_five = make_doctor(name="Dr One Five")
    make_review(make_completed_visit(one_five), rating=5)
    many = make_doctor(name="Dr Many Good")
    # Forty reviews of 5, 4, 5, 5, 5 ... averaging 4.8: a long good record.
    for n in range(40):
        make_review(make_completed_visit(many, days_ago=n + 1), rating=4 if n % 5 == 0 else 5)
    unrated = make_doctor(name="Dr Unrated")
    poor = make_doctor(name="Dr Poor")
    for n in range(10):
        make_review(make_completed_visit(poor, days_ago=n + 1), rating=2)

    body = client.get("/api/v1/doctors?sort=rating").get_json()
    names = [item["name"] for item in body["items"]]
    assert names == ["Dr Many Good", "Dr One Five", "Dr Unrated", "Dr Poor"]
    first = body["items"][0]["rating"]
    assert first == {"average": 4.8, "count": 40}
    assert body["items"][2]["rating"] == {"average": None, "count": 0}
    assert unrated.rating_count == 0


def test_completing_a_visit_asks_the_patient_for_a_review(client, bearer):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    visit = make_appointment(make_slot(start=start), status=AppointmentStatus.CONFIRMED)
    response = client.post(
        f"/api/v1/appointments/{visit.id}/complete", headers=bearer(visit.doctor.user)
    )
    assert response.status_code == 200, response.get_json()
    asked = db.session.scalars(
        select(Notification).where(
            Notification.user_id == visit.patient_id, Notification.kind == "review.request"
        )
    ).all()
    assert {n.channel for n in asked} == {NotificationChannel.IN_APP, NotificationChannel.EMAIL}
    in_app = client.get("/api/v1/notifications", headers=bearer(visit.patient)).get_json()
    request_item = next(i for i in in_app["items"] if i["kind"] == "review.request")
    assert request_item["url"].endswith(f"/appointments/{visit.id}")
