"""PostgreSQL going away in the middle of a booking load, seen from the clients of a live
server (gunicorn, gevent) that reaches the database through a FaultProxy.

While the line is cut every answer is a clean 503 (JSON for the API, the error page for pages,
Retry-After, no traceback); once it is back the server recovers by itself (pool_pre_ping and
fresh connections) within seconds; and the rows agree with what the clients were told: every
201 is one appointment, none twice, no slot with two active appointments.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import ACTIVE_STATUSES, Appointment, Role, Slot
from tests import servers
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, make_doctor, make_user
from tests.integration.faults.conftest import (
    Reply,
    Timeline,
    assert_clean_unavailable,
    call,
    token_for,
)

CLIENTS = 12  # patients booking at once, each their own doctor's slots
SLOTS_EACH = 60  # more than a client books in the test's few seconds
LOAD_BEFORE_CUT = 1.5  # seconds of bookings before the cut
CUT_SECONDS = 2.0
RECOVERY_DEADLINE = 20.0  # every client books again within this after the restore (liveness)
LOAD_AFTER_RECOVERY = 1.0


@pytest.fixture
def proxied_server(database_url, make_proxy):
    """A live server whose every database connection goes through a FaultProxy."""
    proxy = make_proxy(database_url)
    process, base_url = servers.start_app_server(
        proxy.url(database_url), TEST_SECRET_KEY, what="the server behind the database proxy"
    )
    yield proxy, base_url
    servers.stop(process)


def _booker(base_url, token, slot_ids, stop, replies, lock):
    """Book `slot_ids` one after another until `stop`; after a 503 the same slot is asked
    again (the refused try may still have committed: then the answer is a 409)."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        pending = list(slot_ids)
        while pending and not stop.is_set():
            slot_id = pending[0]
            try:
                reply = call(
                    session,
                    "POST",
                    f"{base_url}/api/v1/appointments",
                    json={"slot_id": slot_id, "payment_method": "cash"},
                    slot_id=slot_id,
                )
            except requests.RequestException as exc:  # the server dropped the client: a fault
                now = time.monotonic()
                reply = Reply(0, {}, repr(exc), {}, now, now, slot_id)
            with lock:
                replies.append(reply)
            if reply.status != 503:
                pending.pop(0)
            else:
                time.sleep(0.1)


def test_database_cut_mid_load_gives_clean_503s_recovers_and_loses_no_booking(ctx, proxied_server):
    proxy, base_url = proxied_server
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=8, minute=0, second=0)
    plans = []
    for _ in range(CLIENTS):
        doctor = make_doctor()
        slots = [
            Slot(
                doctor=doctor,
                start_at=start + timedelta(minutes=30 * i),
                end_at=start + timedelta(minutes=30 * i + 30),
            )
            for i in range(SLOTS_EACH)
        ]  # make_slot's one commit per slot, at once
        db.session.add_all(slots)
        db.session.commit()
        plans.append((token_for(make_user(Role.PATIENT)), [s.id for s in slots]))
    db.session.remove()

    stop, lock = threading.Event(), threading.Lock()
    replies: list[Reply] = []
    threads = [
        threading.Thread(target=_booker, args=(base_url, token, ids, stop, replies, lock))
        for token, ids in plans
    ]
    for thread in threads:
        thread.start()
    timeline = Timeline()
    pages: list[Reply] = []
    try:
        time.sleep(LOAD_BEFORE_CUT)
        timeline.cut_at = time.monotonic()
        proxy.cut()
        time.sleep(CUT_SECONDS / 2)
        with requests.Session() as browser:  # a person, and a load balancer, meanwhile
            pages.append(call(browser, "GET", f"{base_url}/doctors"))
            pages.append(call(browser, "GET", f"{base_url}/readyz"))
        time.sleep(max(0.0, timeline.cut_at + CUT_SECONDS - time.monotonic()))
        timeline.restored_at = time.monotonic()
        proxy.restore()
        deadline = timeline.restored_at + RECOVERY_DEADLINE
        with requests.Session() as probe:  # what a load balancer's readiness check sees
            while time.monotonic() < deadline:
                ready = call(probe, "GET", f"{base_url}/readyz")
                if ready.status == 200:
                    timeline.notes["ready"] = ready.ended - timeline.restored_at
                    break
                time.sleep(0.05)
        while time.monotonic() < deadline:
            with lock:
                back = {r.slot_id for r in replies if timeline.after(r) and r.status == 201}
            if all(back & set(ids) for _, ids in plans):
                break
            time.sleep(0.05)
        time.sleep(LOAD_AFTER_RECOVERY)
    finally:
        stop.set()
        proxy.restore()
        for thread in threads:
            thread.join(60)

    statuses = Counter(r.status for r in replies)
    during = [r for r in replies if timeline.during(r)]
    after = sorted((r for r in replies if timeline.after(r)), key=lambda r: r.ended)
    first_201 = next((r.ended for r in after if r.status == 201), None)
    recovered_by_client = []
    for _, ids in plans:
        ok = [r.ended for r in after if r.status == 201 and r.slot_id in ids]
        recovered_by_client.append(min(ok) - timeline.restored_at if ok else None)
    print(
        f"\n[faults] database cut {CUT_SECONDS:g} s under {CLIENTS} booking clients: "
        f"{len(replies)} requests {dict(statuses)}; {len(during)} asked and answered while "
        f"cut (all 503); /readyz 200 again {timeline.notes.get('ready', -1):.2f} s and the "
        f"first 201 {first_201 - timeline.restored_at:.2f} s after the "
        f"restore; every client booking again within "
        f"{max(t for t in recovered_by_client if t is not None):.2f} s; "
        f"{proxy.refused} connections refused by the proxy while cut"
    )

    for reply in [r for r in replies if r.status not in (201, 409, 503)]:
        print("[faults] unexpected", reply.status, reply.text[:300])
    # Only bookings, clean refusals, and 409s for slots whose refused try had committed.
    assert set(statuses) <= {201, 409, 503}, [r for r in replies if r.status not in (201, 409, 503)]
    assert statuses[503] > 0 and during, "the cut was never seen"
    for reply in [r for r in replies if r.status == 503]:
        assert_clean_unavailable(reply)
    for reply in during:
        assert reply.status == 503, reply
    doctors_page, readyz = pages
    assert_clean_unavailable(doctors_page, json=False)
    assert readyz.status == 503, readyz
    assert readyz.body["checks"]["database"].startswith("unavailable"), readyz.body

    # Recovered by itself: every client booked again after the restore.
    assert None not in recovered_by_client, recovered_by_client

    # The rows agree with what the clients were told.
    booked = [r for r in replies if r.status == 201]
    ids = [r.body["id"] for r in booked]
    assert len(ids) == len(set(ids)), "an appointment id was answered twice"
    rows = {a.id: a for a in db.session.scalars(select(Appointment))}
    for reply in booked:
        row = rows.get(reply.body["id"])
        assert row is not None, f"201 for appointment {reply.body['id']}, not in the database"
        assert row.slot_id == reply.slot_id and row.status in ACTIVE_STATUSES, reply
    doubled = db.session.execute(
        select(Appointment.slot_id, func.count())
        .where(Appointment.status.in_(ACTIVE_STATUSES))
        .group_by(Appointment.slot_id)
        .having(func.count() > 1)
    ).all()
    assert doubled == []
    refused_then_taken = {r.slot_id for r in replies if r.status == 409}
    for slot_id in refused_then_taken:
        asked = [r for r in replies if r.slot_id == slot_id]
        assert asked[-1].status == 409 and any(r.status == 503 for r in asked), asked
        assert asked[-1].code == "slot_unavailable" or "already" in str(asked[-1].body)
        (row,) = [a for a in rows.values() if a.slot_id == slot_id]  # the 503'd try landed
        assert row.status in ACTIVE_STATUSES


def test_signed_in_pages_get_the_error_page_while_the_database_is_cut_then_work_again(
    ctx, database_url, make_app, make_proxy
):
    """The site's layout reads the database (the signed-in user, the bell): the 503 page is
    standalone, so a signed-in person sees it too, not a bare 500."""
    patient = make_user(Role.PATIENT)
    email, token = patient.email, token_for(patient)
    db.session.remove()  # nothing of this session may be read through the proxied app
    proxy = make_proxy(database_url)
    proxied = make_app(proxy.url(database_url))
    with proxied.app_context():
        browser = proxied.test_client()
        signed_in = browser.post("/login", data={"email": email, "password": PASSWORD})
        assert signed_in.status_code == 302
        assert browser.get("/appointments").status_code == 200
        db.session.remove()

        proxy.cut()
        page = browser.get("/appointments")
        api = browser.get("/api/v1/appointments", headers={"Authorization": f"Bearer {token}"})
        proxy.restore()
        again = browser.get("/appointments")

    text = page.get_data(as_text=True)
    assert page.status_code == 503 and page.headers["Retry-After"].isdigit()
    assert "briefly unavailable" in text and "Traceback" not in text
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "service_unavailable"
    assert again.status_code == 200  # the pool's pre-ping replaced the dead connections


def test_a_connection_lost_mid_transaction_does_not_fail_the_end_of_the_request(
    database_url, make_app, make_proxy
):
    """What the load test once met as gunicorn's bare 500: a request had read (a transaction
    open), the database went away, and the session's closing rollback raised from the
    teardown, past every error handler. Now the dead connection is dropped quietly."""
    proxy = make_proxy(database_url)
    proxied = make_app(proxy.url(database_url))
    with proxied.test_request_context("/"):
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # the transaction is open
        proxy.cut()
    proxy.restore()
    with proxied.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # a fresh connection


def test_a_statement_stuck_on_a_lock_is_cancelled_and_answered_503(
    make_app, database_url, ctx, monkeypatch
):
    """PostgreSQL cancels a statement past DB_STATEMENT_TIMEOUT_SECONDS: a booking waiting on
    its patient's row, locked by another transaction, answers 503 instead of waiting, writes
    nothing, and the same booking goes through once the lock is gone."""
    from app.config import _engine_options
    from tests.factories import make_slot

    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_SECONDS", "1")
    options = _engine_options(database_url)
    assert options["connect_args"]["options"] == "-c statement_timeout=1000"
    app = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options, RATELIMIT_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        patient = make_user(Role.PATIENT)
        slot = make_slot(make_doctor())
        token = client.post(
            "/api/v1/auth/token", json={"email": patient.email, "password": PASSWORD}
        ).get_json()["access_token"]
        patient_id, slot_id = patient.id, slot.id
        db.session.remove()
    body = {"slot_id": slot_id, "payment_method": "cash", "acknowledge_policy": True}
    headers = {"Authorization": f"Bearer {token}"}

    holder = db.engine.connect()  # the test's own app: no statement timeout
    try:
        holder.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": patient_id})
        started = time.monotonic()
        stuck = client.post("/api/v1/appointments", json=body, headers=headers)
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert stuck.status_code == 503, stuck.get_json()
    assert stuck.get_json()["error"]["code"] == "service_unavailable"
    assert stuck.headers["Retry-After"]
    assert 0.9 < waited < 10
    with app.app_context():
        assert db.session.scalar(select(func.count(Appointment.id))) == 0
        db.session.remove()

    booked = client.post("/api/v1/appointments", json=body, headers=headers)
    assert booked.status_code == 201, booked.get_json()
