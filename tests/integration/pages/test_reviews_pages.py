"""Reviews on the pages: written from the appointment page, shown on the doctor's page as
text, replied to from the doctor's area, moderated from /admin/reviews."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Doctor, Review, Role, UserPermission
from app.services.reviews import reviews
from tests.factories import make_completed_visit, make_doctor, make_review, make_user

SCRIPT = '<script>alert("x")</script> <b>great</b>'


def test_patient_reviews_a_completed_visit_from_its_page(client, auth):
    visit = make_completed_visit()
    auth.login(visit.patient.email)
    page = client.get(f"/appointments/{visit.id}").get_data(as_text=True)
    assert "How was your visit?" in page
    response = client.post(
        f"/appointments/{visit.id}/review", data={"rating": "4", "comment": "Listened well."}
    )
    assert response.status_code == 302
    page = client.get(f"/appointments/{visit.id}").get_data(as_text=True)
    assert 'data-testid="my-comment">Listened well.' in page
    assert "Change your review (until" in page

    review = db.session.scalars(select(Review)).one()
    client.post(f"/reviews/{review.id}/edit", data={"rating": "2", "comment": ""})
    db.session.expire_all()
    assert (review.rating, review.comment) == (2, None)


def test_another_patient_cannot_review_or_change_it(client, auth):
    visit = make_completed_visit()
    review = make_review(visit)
    auth.login(make_user(Role.PATIENT).email)
    assert client.post(f"/appointments/{visit.id}/review", data={"rating": "1"}).status_code == 404
    assert client.post(f"/reviews/{review.id}/edit", data={"rating": "1"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Review, review.id).rating == 5


def test_comment_html_is_shown_as_text_on_the_doctors_page(client):
    review = make_review(comment=SCRIPT)
    page = client.get(f"/doctors/{review.doctor_id}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &lt;b&gt;great&lt;/b&gt;" in page
    assert "5.0" in page and "(1 review)" in page


def test_hidden_reviews_are_not_listed_and_leave_the_rating(client):
    doctor = make_doctor()
    make_review(make_completed_visit(doctor), rating=4, comment="Fine visit")
    hidden = make_review(make_completed_visit(doctor), rating=1, comment="Rude spam")
    moderator = make_user(Role.ADMIN)
    reviews.hide_review(
        review_id=hidden.id, actor_id=moderator.id, reason="Spam", now=datetime.now(UTC)
    )
    page = client.get(f"/doctors/{doctor.id}").get_data(as_text=True)
    assert "Fine visit" in page and "Rude spam" not in page
    assert "4.0" in page and "(1 review)" in page
    search = client.get("/doctors?sort=rating").get_data(as_text=True)
    assert "(1 review)" in search


def test_doctor_sees_their_reviews_and_replies_once(client, auth):
    review = make_review(comment="Helpful")
    other = make_review(comment="Someone else's")
    auth.login(review.doctor.user.email)
    page = client.get("/doctor/reviews").get_data(as_text=True)
    assert "Helpful" in page and "Someone else" not in page
    client.post(f"/doctor/reviews/{review.id}/reply", data={"body": "Thank you"})
    client.post(f"/doctor/reviews/{review.id}/reply", data={"body": "Second"})
    db.session.expire_all()
    assert db.session.get(Review, review.id).reply == "Thank you"
    client.post(f"/doctor/reviews/{review.id}/reply?change=1", data={"body": "Thanks again"})
    db.session.expire_all()
    assert db.session.get(Review, review.id).reply == "Thanks again"
    assert client.post(f"/doctor/reviews/{other.id}/reply", data={"body": "x"}).status_code == 404
    assert "Thanks again" in client.get(f"/doctors/{review.doctor_id}").get_data(as_text=True)


def test_moderators_hide_and_restore_from_the_admin_page(client, auth):
    doctor = make_doctor(name="Dr Moderated")
    review = make_review(make_completed_visit(doctor), comment="Off topic")
    helper = make_user(Role.HELPER)
    helper.permissions.append(UserPermission(permission="reviews.moderate"))
    db.session.commit()
    auth.login(helper.email)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/"' in home
    listing = client.get(f"/admin/reviews?doctor={doctor.id}&visibility=visible")
    assert listing.status_code == 200 and "Off topic" in listing.get_data(as_text=True)
    assert client.post(f"/admin/reviews/{review.id}/hide", data={"reason": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Review, review.id).is_visible  # no reason, no hiding
    client.post(f"/admin/reviews/{review.id}/hide", data={"reason": "Not about the visit"})
    db.session.expire_all()
    assert not db.session.get(Review, review.id).is_visible
    hidden = client.get("/admin/reviews?visibility=hidden").get_data(as_text=True)
    assert "Not about the visit" in hidden
    client.post(f"/admin/reviews/{review.id}/restore", data={})
    db.session.expire_all()
    assert db.session.get(Review, review.id).is_visible


def test_admin_reviews_page_is_for_moderators_only(client, auth):
    auth.login(make_user(Role.HELPER).email)
    assert client.get("/admin/reviews").status_code == 403


def test_concurrent_reviews_of_one_doctor_all_count(app, ctx):
    doctor = make_doctor()
    visits = [make_completed_visit(doctor) for _ in range(6)]
    ids = [(v.id, v.patient_id) for v in visits]
    barrier = threading.Barrier(len(ids))
    errors = []

    def write(appointment_id: int, patient_id: int, rating: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                reviews.write_review(
                    appointment_id=appointment_id,
                    patient_id=patient_id,
                    rating=rating,
                    comment=None,
                    now=datetime.now(UTC),
                )
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=write, args=(a, p, n % 5 + 1)) for n, (a, p) in enumerate(ids)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    doctor = db.session.get(Doctor, doctor.id)
    assert (doctor.rating_count, doctor.rating_sum) == (6, 1 + 2 + 3 + 4 + 5 + 1)
