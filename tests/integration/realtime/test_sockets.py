"""Socket.IO against live gunicorn servers sharing Redis: who may connect, the rooms they are
put in, the slot feed, appointment events, several processes and the RQ worker."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
import requests
import socketio
from rq import Queue

from app.extensions import db
from app.models import AppointmentStatus, Role
from app.services import realtime
from app.services.accounts.sessions import revoke_api_tokens
from tests.factories import PASSWORD, make_appointment, make_doctor, make_slot, make_user

from .conftest import future, run_worker_burst, session_cookie


def api(base_url, token, method, path, **kwargs):
    response = requests.request(
        method,
        f"{base_url}/api/v1{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,
    )
    assert response.status_code < 300, response.text
    return response.json()


def emit_from_outside(socket_queue, event, payload, room, namespace="/"):
    """What an RQ worker does: publish to the message queue without serving sockets."""
    manager = socketio.RedisManager(socket_queue, channel="flask-socketio", write_only=True)
    manager.emit(event, payload, room=room, namespace=namespace)


def refused(base_url, **kwargs) -> str:
    """The server's reason for refusing the connection (connect_error's message)."""
    client = socketio.Client(reconnection=False)
    reasons = []
    client.on("connect_error", reasons.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            base_url,
            transports=["websocket"],
            wait_timeout=10,
            headers={"Cookie": kwargs["cookie"]} if kwargs.get("cookie") else {},
            auth={"token": kwargs["token"]} if kwargs.get("token") else None,
        )
    return str(reasons)


def test_a_session_cookie_socket_is_put_in_its_users_room(
    realtime_server, socket_queue, client, ctx, listeners
):
    ana = make_user(Role.PATIENT, email="ana@example.com")
    listener = listeners().connect(realtime_server, cookie=session_cookie(client, ana.email))
    emit_from_outside(socket_queue, "ping", {"n": 1}, realtime.user_room(ana.id))
    assert listener.next("ping") == {"n": 1}


def test_a_bearer_token_socket_is_put_in_its_users_room(
    realtime_server, socket_queue, auth, ctx, listeners
):
    ben = make_user(Role.PATIENT, email="ben@example.com")
    listener = listeners().connect(realtime_server, token=auth.token(ben.email))
    emit_from_outside(socket_queue, "ping", {"n": 2}, realtime.user_room(ben.id))
    assert listener.next("ping") == {"n": 2}


def test_a_socket_without_credentials_is_refused(realtime_server, ctx):
    assert "Sign in" in refused(realtime_server)
    assert "Sign in" in refused(realtime_server, token="not-a-token")


def test_a_revoked_token_is_refused(realtime_server, auth, ctx):
    cleo = make_user(Role.PATIENT, email="cleo@example.com")
    token = auth.token(cleo.email)
    revoke_api_tokens(cleo.id, now=datetime.now(UTC))  # "sign out everywhere" bumps token_version
    db.session.commit()
    assert "Sign in" in refused(realtime_server, token=token)


def test_a_signed_out_session_is_refused(realtime_server, client, ctx):
    dan = make_user(Role.PATIENT, email="dan@example.com")
    cookie = session_cookie(client, dan.email)
    client.post("/logout")  # revokes the session row; the old cookie stays valid-looking
    assert "Sign in" in refused(realtime_server, cookie=cookie)


def test_an_idle_session_is_refused(realtime_server, client, ctx):
    from datetime import timedelta  # noqa: PLC0415

    from app.models import UserSession  # noqa: PLC0415

    eve = make_user(Role.PATIENT, email="eve@example.com")
    cookie = session_cookie(client, eve.email)
    row = db.session.scalars(db.select(UserSession).filter_by(user_id=eve.id)).one()
    row.last_seen_at -= timedelta(hours=2)
    db.session.commit()
    assert "Sign in" in refused(realtime_server, cookie=cookie)


def test_no_event_lets_a_client_into_another_users_room(
    realtime_server, socket_queue, auth, ctx, listeners
):
    mallory = make_user(Role.PATIENT, email="mallory@example.com")
    victim = make_user(Role.PATIENT, email="victim@example.com")
    listener = listeners().connect(realtime_server, token=auth.token(mallory.email))
    room = realtime.user_room(victim.id)
    for event in ("join", "join_room", "enter_room", "subscribe", "watch_doctor"):
        listener.client.emit(event, {"room": room, "doctor_id": victim.id})
    emit_from_outside(socket_queue, "ping", {"secret": True}, room)
    emit_from_outside(socket_queue, "ping", {"mine": True}, realtime.user_room(mallory.id))
    assert listener.next("ping") == {"mine": True}
    assert listener.nothing("ping")


def test_watch_doctor_refuses_unlisted_doctors_and_bad_ids(realtime_server, ctx, listeners):
    hidden = make_doctor(verified_at=None)
    listener = listeners(("/public",)).connect(realtime_server)
    ask = listener.client.call
    assert ask("watch_doctor", {"doctor_id": hidden.id}, namespace="/public")["ok"] is False
    assert ask("watch_doctor", {"doctor_id": "1"}, namespace="/public")["error"]["code"] == (
        "invalid_input"
    )


def test_an_anonymous_watcher_sees_a_slot_taken_and_freed(realtime_servers, auth, ctx, listeners):
    doctor = make_doctor()
    slot = make_slot(doctor, start=future())
    patient = make_user(Role.PATIENT, email="booker@example.com")
    token = auth.token(patient.email)
    watcher = listeners(("/public",)).connect(realtime_servers[1])  # anonymous
    assert watcher.client.call("watch_doctor", {"doctor_id": doctor.id}, namespace="/public") == {
        "ok": True
    }

    booked = api(
        realtime_servers[0], token, "POST", "/appointments",
        json={"slot_id": slot.id, "payment_method": "cash"},
    )  # fmt: skip
    assert watcher.next("slot") == {"slot_id": slot.id, "state": "taken"}
    api(realtime_servers[0], token, "POST", f"/appointments/{booked['id']}/cancel", json={})
    assert watcher.next("slot") == {"slot_id": slot.id, "state": "free"}
    assert watcher.nothing("appointment")  # nothing personal on the public feed


def test_the_doctor_hears_of_requests_and_cancellations_and_the_patient_of_decisions(
    realtime_servers, auth, ctx, listeners
):
    doctor = make_doctor(requires_approval=True)
    slot = make_slot(doctor, start=future(hour=11))
    patient = make_user(Role.PATIENT, email="pat@example.com")
    patient_token = auth.token(patient.email)
    doctor_socket = listeners().connect(realtime_servers[1], token=auth.token(doctor.user.email))
    patient_socket = listeners().connect(realtime_servers[0], token=patient_token)

    booked = api(
        realtime_servers[0], patient_token, "POST", "/appointments",
        json={"slot_id": slot.id, "payment_method": "cash"},
    )  # fmt: skip
    assert doctor_socket.next("appointment") == {"id": booked["id"], "status": "pending_approval"}
    api(realtime_servers[1], auth.token(doctor.user.email), "POST",
        f"/appointments/{booked['id']}/approve", json={})  # fmt: skip
    assert patient_socket.next("appointment") == {"id": booked["id"], "status": "pending_approval"}
    assert patient_socket.next("appointment") == {"id": booked["id"], "status": "confirmed"}
    assert doctor_socket.next("appointment")["status"] == "confirmed"
    api(realtime_servers[0], patient_token, "POST", f"/appointments/{booked['id']}/cancel", json={})
    assert doctor_socket.next("appointment") == {"id": booked["id"], "status": "cancelled"}


def test_a_booking_through_one_server_reaches_a_client_of_the_other(
    realtime_servers, auth, ctx, listeners
):
    doctor = make_doctor()
    slot = make_slot(doctor, start=future(hour=12))
    patient = make_user(Role.PATIENT, email="two@example.com")
    doctor_on_2 = listeners().connect(realtime_servers[1], token=auth.token(doctor.user.email))
    booked = api(
        realtime_servers[0], auth.token(patient.email), "POST", "/appointments",
        json={"slot_id": slot.id, "payment_method": "cash"},
    )  # fmt: skip
    assert doctor_on_2.next("appointment") == {"id": booked["id"], "status": "confirmed"}


def test_an_rq_job_emits_to_connected_clients(
    realtime_server, socket_queue, database_url, auth, ctx, listeners
):
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415

    import redis  # noqa: PLC0415

    doctor = make_doctor()
    slot = make_slot(doctor, start=future(hour=13))
    patient = make_user(Role.PATIENT, email="lapsed@example.com")
    hold = make_appointment(
        slot,
        patient,
        status=AppointmentStatus.PENDING_PAYMENT,
        hold_expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    checkout = listeners().connect(realtime_server, token=auth.token(patient.email))
    watcher = listeners(("/public",)).connect(realtime_server)
    watcher.client.call("watch_doctor", {"doctor_id": doctor.id}, namespace="/public")

    connection = redis.Redis.from_url(socket_queue)
    connection.delete(*connection.keys("carebook:tick:*") or ["-"])
    Queue("default", connection=connection).enqueue("workers.jobs.expire_holds")
    done = run_worker_burst(database_url, socket_queue)
    assert done.returncode == 0, done.stderr

    assert checkout.next("appointment") == {"id": hold.id, "status": "expired"}
    assert watcher.next("slot") == {"slot_id": slot.id, "state": "free"}


def test_presence_is_shared_through_redis(make_app, database_url, socket_queue, auth, ctx):
    fay = make_user(Role.PATIENT, email="fay@example.com")
    token = auth.token(fay.email)
    asking = make_app(database_url, REDIS_URL=socket_queue)
    # The servers are other processes: what they record, this one reads.
    from tests import servers  # noqa: PLC0415
    from tests.conftest import TEST_SECRET_KEY  # noqa: PLC0415

    process, base_url = servers.start_app_server(
        database_url, TEST_SECRET_KEY, env={"SOCKETIO_MESSAGE_QUEUE": socket_queue},
        workers=1, what="the presence server",
    )  # fmt: skip
    try:
        with asking.app_context():
            assert realtime.is_connected(fay.id) is False
        socket = socketio.Client(reconnection=False)
        socket.connect(base_url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        with asking.app_context():
            assert realtime.is_connected(fay.id) is True
        socket.disconnect()
        import time  # noqa: PLC0415

        deadline = time.monotonic() + 5
        with asking.app_context():
            while realtime.is_connected(fay.id) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert realtime.is_connected(fay.id) is False
    finally:
        servers.stop(process)


def _csrf(html: str, field: str = "csrf_token") -> str:
    return re.search(rf'name="{field}"[^>]*value="([^"]+)"', html).group(1)


def _sign_in(base_url: str, email: str) -> requests.Session:
    """A browser's session on a live server: the sign-in form, as a person submits it."""
    browser = requests.Session()
    form = browser.get(f"{base_url}/login", timeout=10).text
    signed_in = browser.post(
        f"{base_url}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": _csrf(form)},
        timeout=10,
    )
    assert signed_in.ok and "/login" not in signed_in.url, signed_in.url
    return browser


def _disconnected(listener, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while listener.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    return not listener.client.connected


def test_signing_out_ends_the_users_open_sockets_on_every_server(
    realtime_servers, socket_queue, auth, ctx, listeners
):
    gil = make_user(Role.PATIENT, email="gil@example.com")
    one, two = realtime_servers
    browser = _sign_in(one, gil.email)
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    by_session = listeners().connect(one, cookie=cookie)
    token = auth.token(gil.email)
    by_token = listeners().connect(two, token=token)

    page = browser.get(f"{one}/account", timeout=10).text
    assert browser.post(f"{one}/logout", data={"csrf_token": _csrf(page)}, timeout=10).ok

    # Both sockets end, on both servers: the signed-out one must not keep hearing the
    # user's events. A socket still entitled to connect is let back in; the other is not.
    assert _disconnected(by_session)
    assert _disconnected(by_token)
    assert "Sign in" in refused(one, cookie=cookie)
    back = listeners().connect(two, token=token)
    emit_from_outside(socket_queue, "ping", {"n": 3}, realtime.user_room(gil.id))
    assert back.next("ping") == {"n": 3}


def test_signing_out_other_browsers_ends_their_sockets_and_the_token_ones(
    realtime_server, auth, ctx, listeners
):
    hal = make_user(Role.PATIENT, email="hal@example.com")
    token = auth.token(hal.email)
    by_token = listeners().connect(realtime_server, token=token)
    other = _sign_in(realtime_server, hal.email)
    other_cookie = "; ".join(f"{c.name}={c.value}" for c in other.cookies)
    by_other = listeners().connect(realtime_server, cookie=other_cookie)
    browser = _sign_in(realtime_server, hal.email)
    page = browser.get(f"{realtime_server}/account", timeout=10).text
    # "Sign out other browsers" ends the other sessions and every API token issued so far.
    answer = browser.post(
        f"{realtime_server}/account/sessions/sign-out-others",
        data={"others-csrf_token": _csrf(page, "others-csrf_token")},
        timeout=10,
    )
    assert answer.ok and "Signed out of 1 other session" in answer.text, answer.status_code
    assert _disconnected(by_token)
    assert _disconnected(by_other)
    assert "Sign in" in refused(realtime_server, token=token)
    assert "Sign in" in refused(realtime_server, cookie=other_cookie)
