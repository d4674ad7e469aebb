"""The API's "visit" of a video appointment, a clinic's external meeting link (shown only
once the room opens), and the ICE servers with time-limited TURN credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import current_app

from app.extensions import db
from app.models import Role, SlotMode, UserPermission
from app.services.accounts.tokens import issue_token
from app.services.errors import InvalidInput
from app.services.visits import ice, rooms
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_user
from tests.integration.visits.conftest import another_visit, video_visit

JITSI = "https://meet.jit.si/carebook-{appointment_id}-{token}"


def base() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def bearer(user) -> dict:
    token = issue_token(user, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


def _visit_field(client, user, appointment_id: int):
    response = client.get(f"/api/v1/appointments/{appointment_id}", headers=bearer(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json().get("visit", "absent")


def test_the_api_gives_a_video_appointment_its_room_and_window(client, visit):
    field = _visit_field(client, visit.patient, visit.appointment.id)
    a = visit.appointment
    assert field == {
        "url": f"{base()}/visits/{a.id}",
        "opens_at": (a.starts_at - timedelta(minutes=10)).isoformat(),
        "closes_at": (a.ends_at + timedelta(minutes=30)).isoformat(),
    }
    assert _visit_field(client, visit.doctor_user, a.id) == field

    in_person = video_visit(
        visit.doctor, visit.patient, starts_in=timedelta(days=1), mode=SlotMode.IN_PERSON
    )
    assert _visit_field(client, visit.patient, in_person.id) == "absent"


def _use_external_link(visit, template: str = JITSI) -> None:
    visit.doctor.clinic.meeting_url_template = template
    db.session.commit()


def test_with_an_external_provider_both_get_the_link_once_the_room_opens(client, auth, visit):
    _use_external_link(visit)
    a = visit.appointment
    link = JITSI.format(appointment_id=a.id, token=rooms.visit_token(a.id))
    assert re.fullmatch(rf"https://meet\.jit\.si/carebook-{a.id}-[A-Za-z0-9_-]{{24}}", link)

    for user in (visit.patient, visit.doctor_user):
        assert _visit_field(client, user, a.id)["url"] == link
        auth.login(user.email)
        text = client.get(visit.path).get_data(as_text=True)
        assert f'href="{link}"' in text and 'data-testid="visit-room"' not in text
        auth.logout()

    # Someone allowed to see the booking but not in the visit gets the room page, not the link.
    helper = make_user(Role.HELPER)
    helper.permissions.append(UserPermission(permission="bookings.view"))
    db.session.commit()
    assert _visit_field(client, helper, a.id)["url"] == f"{base()}/visits/{a.id}"


def test_the_external_link_is_not_shown_before_the_room_opens(client, auth, ctx):
    later = another_visit(starts_in=timedelta(hours=2))
    _use_external_link(later)
    a = later.appointment
    token = rooms.visit_token(a.id)
    assert _visit_field(client, later.patient, a.id)["url"] == f"{base()}/visits/{a.id}"
    auth.login(later.patient.email)
    text = client.get(later.path).get_data(as_text=True)
    assert token not in text and "meet.jit.si" not in text
    assert 'data-testid="visit-not-open"' in text


def test_each_appointment_gets_its_own_unguessable_token(visit, make_app, database_url):
    first = rooms.visit_token(visit.appointment.id)
    assert first != rooms.visit_token(visit.appointment.id + 1)
    assert first == rooms.visit_token(visit.appointment.id)  # stable: every process agrees
    other = make_app(database_url, SECRET_KEY="another-secret")
    with other.app_context():
        assert rooms.visit_token(visit.appointment.id) != first  # keyed by the server's secret


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("http://meet.example/{appointment_id}", "https://"),
        ("https://meet.example/room", "needs {appointment_id} or {token}"),
        ("https://meet.example/{patient_name}-{token}", "only {appointment_id} and {token}"),
        ("https://{token}.meet.example/x", "fixed host"),
        ("https://meet.example/a b/{token}", "spaces or quotes"),
        ("javascript:alert(1)//{token}", "https://"),
        ("https://meet.example/" + "x" * 500 + "{token}", "at most 500"),
    ],
)
def test_bad_meeting_link_templates_are_refused(template, message, app):
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        rooms.clean_meeting_template(template)
    assert message in refused.value.message
    assert refused.value.details == {"field": "meeting_url_template"}


def test_good_meeting_link_templates_are_kept(app):
    with app.app_context():
        assert rooms.clean_meeting_template(f"  {JITSI} ") == JITSI
        assert rooms.clean_meeting_template("https://v.example/r/{appointment_id}") is not None
        assert rooms.clean_meeting_template("") is None
        assert rooms.clean_meeting_template(None) is None


def test_turn_credentials_follow_the_coturn_rest_scheme():
    now = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    issued = ice.turn_credentials("s3cret", 42, now, 3600)
    expiry = int(now.timestamp()) + 3600
    assert issued["username"] == f"{expiry}:42"
    expected = hmac.new(b"s3cret", f"{expiry}:42".encode(), hashlib.sha1).digest()
    assert base64.b64decode(issued["credential"]) == expected
    assert issued["credential"] == base64.b64encode(expected).decode()


def test_the_ice_servers_are_the_configured_ones_plus_turn_with_fresh_credentials(
    make_app, database_url
):
    stun = [{"urls": "stun:stun.example.com:3478"}]
    plain = make_app(database_url, ICE_SERVERS=stun, TURN_SECRET=None, TURN_URLS=[])
    with plain.app_context():
        assert ice.ice_servers_for(7, datetime.now(UTC)) == stun
    with_turn = make_app(
        database_url,
        ICE_SERVERS=stun,
        TURN_SECRET="shared",
        TURN_URLS=["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"],
        TURN_CREDENTIAL_TTL_SECONDS=600,
    )
    now = datetime.now(UTC)
    with with_turn.app_context():
        servers = ice.ice_servers_for(7, now)
    assert servers[0] == stun[0]
    turn = servers[1]
    assert turn["urls"] == [
        "turn:turn.example.com:3478?transport=udp",
        "turns:turn.example.com:5349",
    ]
    assert turn["username"] == f"{int(now.timestamp()) + 600}:7"
    assert turn == {"urls": turn["urls"], **ice.turn_credentials("shared", 7, now, 600)}
