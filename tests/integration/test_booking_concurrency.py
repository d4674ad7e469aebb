"""Races over HTTP: many patients on one slot, cancel against rebook, overlapping slot creation.

Each check runs against a real gunicorn process (2 workers x 16 threads) on PostgreSQL (the
`live_server` fixture) and on SQLite (the `make run` default, served here the same way). The
clients are released together by a barrier; the database decides every race, so the answers
must be exactly one winner, 409s with the documented codes for the others, never a 5xx, and
rows that agree with what the clients were told.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Role, Slot
from app.services.accounts.tokens import issue_token
from tests import servers
from tests.conftest import TEST_SECRET_KEY, build_app, dispose
from tests.factories import make_appointment, make_doctor, make_slot, make_user

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # seconds for one request: generous, a 2-core machine under a burst is slow


@dataclass(frozen=True)
class Backend:
    name: str
    base_url: str
    rounds: int  # contended slots in the booking check
    clients: int  # concurrent patients per contended slot
    pairs: int  # slots in the cancel-against-rebook check
    slot_rounds: int  # bursts of overlapping slot creation


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code")


# --- servers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_database(tmp_path_factory):
    """A migrated SQLite file served by gunicorn; yields (database URL, server URL)."""
    path = tmp_path_factory.mktemp("concurrency") / "carebook.db"
    url = f"sqlite:///{path}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi",
        "SECRET_KEY": TEST_SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    migrated = subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    process, base_url = servers.start_app_server(
        url, TEST_SECRET_KEY, env=env, what="the SQLite server"
    )
    yield url, base_url
    process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown: nothing left to finish
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def sqlite_app(sqlite_database):
    """The app on the served SQLite file, for setting up and checking rows."""
    app = build_app(sqlite_database[0])
    yield app
    dispose(app)


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request):
    """An app context on the served database: PostgreSQL (emptied by `ctx`) or SQLite."""
    if request.param == "postgresql":
        base_url = request.getfixturevalue("live_server")
        request.getfixturevalue("ctx")
        yield Backend("postgresql", base_url, rounds=20, clients=100, pairs=50, slot_rounds=5)
        return
    base_url = request.getfixturevalue("sqlite_database")[1]
    app = request.getfixturevalue("sqlite_app")
    with app.app_context():
        yield Backend("sqlite", base_url, rounds=5, clients=50, pairs=25, slot_rounds=3)
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


# --- clients -------------------------------------------------------------------------------


def token_for(user) -> str:
    return issue_token(user, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=datetime.now(UTC))


def fire_together(base_url: str, calls: list[tuple[str, str, dict]]) -> list[Reply]:
    """POST every (token, path, json) at once: one thread and one requests.Session each,
    released together by a barrier. Replies come back in the order of `calls`."""
    barrier = threading.Barrier(len(calls))

    def post(call: tuple[str, str, dict]) -> Reply:
        token, path, body = call
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            barrier.wait(timeout=TIMEOUT)
            response = session.post(f"{base_url}{path}", json=body, timeout=TIMEOUT)
            try:
                payload = response.json()
            except ValueError:
                payload = {"raw": response.text[:500]}
            return Reply(response.status_code, payload)

    # The test's own session must not hold a transaction (on SQLite: the write lock) meanwhile.
    db.session.remove()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        replies = list(pool.map(post, calls))
    db.session.remove()
    return replies


def assert_no_server_errors(replies: list[Reply]) -> None:
    errors = [r for r in replies if r.status >= 500]
    assert not errors, f"{len(errors)} server errors, e.g. {errors[:3]}"


def active_on(slot_id: int) -> list[Appointment]:
    return list(
        db.session.scalars(
            select(Appointment).where(
                Appointment.slot_id == slot_id, Appointment.status.in_(ACTIVE_STATUSES)
            )
        )
    )


def future_start(days: int = 3) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )


# --- the checks ----------------------------------------------------------------------------


def test_one_slot_many_patients_gives_exactly_one_booking(backend):
    doctor = make_doctor()
    start = future_start()
    # Consecutive slots of one doctor never overlap, so a patient may win several rounds.
    slots = [
        make_slot(doctor, start=start + timedelta(minutes=30 * i)) for i in range(backend.rounds)
    ]
    tokens = [token_for(make_user(Role.PATIENT)) for _ in range(backend.clients)]
    slot_ids = [slot.id for slot in slots]

    for slot_id in slot_ids:
        body = {"slot_id": slot_id, "payment_method": "cash", "notes": "race"}
        replies = fire_together(
            backend.base_url, [(t, "/api/v1/appointments", body) for t in tokens]
        )

        assert_no_server_errors(replies)
        statuses = Counter(r.status for r in replies)
        assert statuses == {201: 1, 409: backend.clients - 1}, (slot_id, statuses)
        assert {r.code for r in replies if r.status == 409} == {"slot_unavailable"}
        (won,) = [r for r in replies if r.status == 201]
        rows = active_on(slot_id)
        assert [row.id for row in rows] == [won.body["id"]]
        assert won.body["status"] == rows[0].status.value == "confirmed"


def test_cancel_against_rebook_leaves_at_most_one_active_appointment(backend):
    doctor = make_doctor()
    start = future_start(days=4)  # outside the clinic's 24-hour policy window
    first, second, third = (make_user(Role.PATIENT) for _ in range(3))
    booked = [
        make_appointment(make_slot(doctor, start=start + timedelta(minutes=30 * i)), first)
        for i in range(backend.pairs)
    ]
    plan = [(a.id, a.slot_id) for a in booked]
    tokens = {p.id: token_for(p) for p in (first, second, third)}
    calls = []
    for appointment_id, slot_id in plan:
        body = {"slot_id": slot_id, "payment_method": "cash"}
        calls.append((tokens[first.id], f"/api/v1/appointments/{appointment_id}/cancel", {}))
        calls.append((tokens[second.id], "/api/v1/appointments", body))
        calls.append((tokens[third.id], "/api/v1/appointments", body))

    replies = fire_together(backend.base_url, calls)

    assert_no_server_errors(replies)
    for index, (appointment_id, slot_id) in enumerate(plan):
        cancel, *bookings = replies[3 * index : 3 * index + 3]
        assert cancel.status == 200, cancel
        assert cancel.body["status"] == "cancelled"
        for reply in bookings:
            assert reply.status in (201, 409), reply
            if reply.status == 409:
                assert reply.code == "slot_unavailable", reply
        won = [r.body["id"] for r in bookings if r.status == 201]
        rows = active_on(slot_id)
        assert len(rows) <= 1, f"slot {slot_id}: {rows}"
        assert [row.id for row in rows] == won, f"slot {slot_id}: told {won}, rows {rows}"
        assert db.session.get(Appointment, appointment_id).status is AppointmentStatus.CANCELLED
    # Every 201 is a row of the patient it was given to.
    for (token_owner, _, body), reply in zip(calls, replies, strict=True):
        if reply.status == 201:
            row = db.session.get(Appointment, reply.body["id"])
            assert row is not None and row.slot_id == body["slot_id"]
            assert tokens[row.patient_id] == token_owner


def test_overlapping_slot_creation_gives_exactly_one_slot(backend):
    doctor = make_doctor()
    token = token_for(doctor.user)
    doctor_id = doctor.id
    for round_ in range(backend.slot_rounds):
        base = future_start(days=5 + round_)
        # Twenty 30-minute slots starting a minute apart: every two of them overlap.
        calls = [
            (
                token,
                f"/api/v1/doctors/{doctor_id}/slots",
                {
                    "start": (base + timedelta(minutes=k)).isoformat(),
                    "end": (base + timedelta(minutes=k + 30)).isoformat(),
                    "mode": "in_person",
                },
            )
            for k in range(20)
        ]

        replies = fire_together(backend.base_url, calls)

        assert_no_server_errors(replies)
        statuses = Counter(r.status for r in replies)
        assert statuses == {201: 1, 409: 19}, (round_, statuses, replies)
        assert {r.code for r in replies if r.status == 409} == {"slot_overlap"}
        created = db.session.scalars(
            select(Slot).where(
                Slot.doctor_id == doctor_id,
                Slot.start_at < base + timedelta(minutes=50),
                Slot.end_at > base,
            )
        ).all()
        assert [s.id for s in created] == [r.body["id"] for r in replies if r.status == 201]
    other = aliased(Slot)
    overlapping_pairs = db.session.scalar(
        select(func.count()).where(
            other.doctor_id == Slot.doctor_id,
            other.id < Slot.id,
            other.start_at < Slot.end_at,
            Slot.start_at < other.end_at,
        )
    )
    assert overlapping_pairs == 0
