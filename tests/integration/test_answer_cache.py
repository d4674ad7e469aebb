"""The answer cache (app/httpcache.py, PUBLIC_CACHE_SECONDS): a visitor's public read is
answered from this process's last answer to the same URL, language and encoding for a
second or two, without running the view; anything personal always runs it."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from app.httpcache import AnswerCache
from app.models import Role
from tests.factories import PASSWORD, make_doctor, make_slot, make_user

SECONDS = 10


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cached_app(make_app, database_url, ctx, clock):
    app = make_app(database_url, PUBLIC_CACHE_SECONDS=SECONDS, PUBLIC_CACHE_ENTRIES=50)
    app.extensions["answer_cache"].clock = clock
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def visitor(cached_app):
    return cached_app.test_client()


def statements(call) -> tuple[int, object]:
    sent = []
    listener = lambda *args: sent.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = call()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(sent), result


def tomorrow_at(hour: int) -> datetime:
    day = datetime.now(UTC) + timedelta(days=2)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def test_a_visitors_repeated_read_is_answered_without_the_database(visitor, clock):
    doctor = make_doctor(name="Dr. Cached")
    make_slot(doctor, start=tomorrow_at(9))
    path = f"/api/v1/doctors/{doctor.id}/slots"
    first = visitor.get(path)
    assert first.status_code == 200 and len(first.get_json()["items"]) == 1
    sent, again = statements(lambda: visitor.get(path))
    assert sent == 0
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    # Replayed, it still goes through the response hooks: its own request id, the security
    # headers, and 304 to a client that has it.
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert again.headers["X-Content-Type-Options"] == "nosniff"
    etag = first.headers["ETag"]
    assert visitor.get(path, headers={"If-None-Match": etag}).status_code == 304

    # Within PUBLIC_CACHE_SECONDS a visitor sees the answer as it was; after, the new slot.
    make_slot(doctor, start=tomorrow_at(10))
    clock.now += SECONDS - 1
    assert len(visitor.get(path).get_json()["items"]) == 1
    clock.now += 2
    assert len(visitor.get(path).get_json()["items"]) == 2


def test_other_urls_languages_and_encodings_are_answers_of_their_own(visitor):
    doctor = make_doctor(name="Dr. Keys")
    make_slot(doctor, start=tomorrow_at(9))
    english = visitor.get(f"/doctors/{doctor.id}")
    spanish = visitor.get(f"/doctors/{doctor.id}", headers={"Accept-Language": "es"})
    assert english.status_code == spanish.status_code == 200
    assert b'lang="en"' in english.data and b'lang="es"' in spanish.data
    assert visitor.get(f"/doctors/{doctor.id}").data == english.data

    for n in range(15):  # a page worth compressing (over a kilobyte)
        make_doctor(name=f"Dr. Zip {n}")
    plain = visitor.get("/api/v1/doctors")
    zipped = visitor.get("/api/v1/doctors", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    zipped_again = visitor.get("/api/v1/doctors", headers={"Accept-Encoding": "gzip"})
    assert zipped_again.data == zipped.data  # replayed as stored, not compressed twice

    other = make_doctor(name="Dr. Another")
    assert visitor.get(f"/api/v1/doctors/{other.id}").get_json()["name"] == "Dr. Another"
    assert "Dr. Keys" not in visitor.get("/api/v1/doctors?q=another").get_data(as_text=True)


def test_anything_personal_is_answered_fresh(cached_app, visitor):
    doctor = make_doctor()
    make_slot(doctor, start=tomorrow_at(9))
    path = f"/api/v1/doctors/{doctor.id}/slots"
    assert len(visitor.get(path).get_json()["items"]) == 1
    make_slot(doctor, start=tomorrow_at(10))
    assert len(visitor.get(path).get_json()["items"]) == 1  # the visitor: cached

    patient = make_user(Role.PATIENT)
    signed_in = cached_app.test_client()
    assert signed_in.post(
        "/login", data={"email": patient.email, "password": PASSWORD}
    ).status_code in (200, 302)
    token = signed_in.post(
        "/api/v1/auth/token", json={"email": patient.email, "password": PASSWORD}
    ).get_json()["access_token"]
    bearer = visitor.get(path, headers={"Authorization": f"Bearer {token}"})
    assert len(bearer.get_json()["items"]) == 2 and bearer.headers["Cache-Control"] == "no-store"
    assert len(signed_in.get(path).get_json()["items"]) == 2  # the session cookie
    page = signed_in.get(f"/doctors/{doctor.id}")
    assert page.headers["Cache-Control"] == "no-store"
    # What they were answered was not stored for the visitors either.
    assert len(visitor.get(path).get_json()["items"]) == 1


def test_only_successful_public_answers_are_stored(cached_app, visitor):
    answers = cached_app.extensions["answer_cache"]
    assert visitor.get("/api/v1/doctors/999999").status_code == 404
    assert visitor.get("/api/v1/doctors?page=0").status_code == 422
    assert visitor.get("/healthz").status_code == 200  # not a cacheable view
    assert len(answers) == 0
    make_doctor()
    assert visitor.get("/api/v1/doctors").status_code == 200
    assert len(answers) == 1


def test_the_cache_keeps_at_most_its_entries(make_app, database_url, ctx):
    app = make_app(database_url, PUBLIC_CACHE_SECONDS=SECONDS, PUBLIC_CACHE_ENTRIES=2)
    visitor = app.test_client()
    with app.app_context():
        paths = [f"/api/v1/doctors/{make_doctor().id}" for _ in range(3)]
        for path in paths:
            assert visitor.get(path).status_code == 200
        assert len(app.extensions["answer_cache"]) == 2
        # The least recently used went first: the first doctor is read again.
        sent, _ = statements(lambda: visitor.get(paths[0]))
        assert sent > 0
        sent, _ = statements(lambda: visitor.get(paths[2]))
        assert sent == 0
        db.session.remove()


def test_a_stale_answer_is_served_while_one_request_makes_it_anew(clock):
    answers = AnswerCache(SECONDS, 10, clock=clock)
    answers.store(("k",), 200, [], b"old")
    clock.now += SECONDS + 1  # stale
    assert answers.lookup(("k",)) is None  # this caller makes it anew ...
    assert answers.lookup(("k",)).body == b"old"  # ... the others get the stale one meanwhile
    answers.store(("k",), 200, [], b"new")
    assert answers.lookup(("k",)).body == b"new"
    # A refresh that never stores (its view failed) leaves the stale answer to age out.
    clock.now += SECONDS + 1
    assert answers.lookup(("k",)) is None
    clock.now += SECONDS - 2
    assert answers.lookup(("k",)).body == b"new"
    clock.now += 1
    assert answers.lookup(("k",)) is None  # twice SECONDS old: not served at all
    assert len(answers) == 0


def test_the_kept_answers_stay_within_their_bytes(clock):
    answers = AnswerCache(SECONDS, 100, max_bytes=10, clock=clock)
    answers.store(("a",), 200, [], b"1234")
    answers.store(("b",), 200, [], b"5678")
    answers.store(("a",), 200, [], b"12")  # stored again: counted once
    answers.store(("c",), 200, [], b"90ab")  # 2 + 4 + 4 = 10: all fit
    assert len(answers) == 3
    answers.store(("d",), 200, [], b"cdef")  # 14: the least recently used goes (b)
    assert len(answers) == 3
    assert answers.lookup(("b",)) is None
    assert [answers.lookup((k,)).body for k in "acd"] == [b"12", b"90ab", b"cdef"]
    answers.store(("e",), 200, [], b"0123456789")  # alone fills the budget
    assert len(answers) == 1 and answers.lookup(("e",)).body == b"0123456789"
