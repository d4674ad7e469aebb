"""Every route, every method, every kind of caller: nobody gets a 2xx they should not, and
nobody gets a 5xx.

The expectation for each route comes from the rule its rbac decorator declared
(`view.access_rule`); URL arguments are filled with the objects of "patient A" and "doctor A",
so "patient B", "doctor B" and a helper without permissions must never succeed on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.routing.converters import NumberConverter, UUIDConverter

from app.extensions import db
from app.models import AppointmentStatus, Role, User, UserPermission
from app.services.access import PERMISSIONS
from app.services.accounts import sessions
from app.services.accounts.tokens import issue_token
from app.services.chat import conversations, messages
from app.services.chat.attachments import Upload
from tests.conftest import TEST_SECRET_KEY
from tests.factories import (
    make_appointment,
    make_clinic,
    make_completed_visit,
    make_doctor,
    make_notification,
    make_payment,
    make_review,
    make_slot,
    make_user,
)

SKIPPED_ENDPOINTS = {"static", "api-docs.openapi_json"}
ROLES = (
    "anonymous",
    "patient_a",
    "patient_b",
    "doctor_a",
    "doctor_b",
    "helper_with",
    "helper_without",
    "admin",
)
# Which callers own the object a URL argument names: anyone else may not touch it (unless
# the route's rule admits them through a permission, as for helpers and admins).
OWNERS = {
    "appointment_id": {"patient_a", "doctor_a"},
    "slot_id": {"doctor_a"},
    "doctor_id": {"doctor_a"},
    "notification_id": {"patient_a"},
    "review_id": {"patient_a", "doctor_a"},
    "conversation_id": {"patient_a", "doctor_a"},
    "message_id": {"patient_a", "doctor_a"},
}
# Callers who never own anything of A's.
STRANGERS = {"patient_b", "doctor_b", "helper_without"}
ROLE_OF = {
    "patient_a": Role.PATIENT,
    "patient_b": Role.PATIENT,
    "doctor_a": Role.DOCTOR,
    "doctor_b": Role.DOCTOR,
    "helper_with": Role.HELPER,
    "helper_without": Role.HELPER,
    "admin": Role.ADMIN,
}


@dataclass
class World:
    users: dict[str, User]
    args: dict[str, object]


@pytest.fixture
def world(ctx) -> World:
    clinic = make_clinic()
    doctor_a = make_doctor(clinic=clinic, name="Dr A")
    doctor_b = make_doctor(clinic=clinic, name="Dr B")
    patient_a = make_user(Role.PATIENT, name="Patient A")
    patient_b = make_user(Role.PATIENT, name="Patient B")
    start = (datetime.now(UTC) + timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    booked = make_slot(doctor_a, start=start)
    appointment = make_appointment(booked, patient_a, status=AppointmentStatus.CONFIRMED)
    open_slot = make_slot(doctor_a, start=start + timedelta(hours=1))
    # A card payment of someone else's visit, for the payment pages (no URL names its visit).
    paid_slot = make_slot(doctor_b, start=start + timedelta(hours=2))
    payment = make_payment(make_appointment(paid_slot, make_user(Role.PATIENT, name="Payer")))
    helper_with = make_user(Role.HELPER, name="Helper With")
    helper_with.permissions.extend(UserPermission(permission=p) for p in PERMISSIONS)
    helper_without = make_user(Role.HELPER, name="Helper Without")
    admin = make_user(Role.ADMIN, name="Admin", totp_secret="RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO")
    bystander = make_user(Role.PATIENT, name="Bystander")  # what admin routes act on
    notification = make_notification(patient_a, appointment=appointment)
    # A's review of a past visit with doctor A (the review routes act on it).
    review = make_review(make_completed_visit(doctor_a, patient_a))
    conversation, _ = conversations.open_conversation(
        actor_id=patient_a.id, doctor_id=doctor_a.id, now=datetime.now(UTC)
    )
    message = messages.send_message(
        conversation_id=conversation.id,
        sender_id=patient_a.id,
        body="With a file",
        upload=Upload(data=b"%PDF-1.4\n%%EOF\n", filename="letter.pdf"),
        now=datetime.now(UTC),
    )
    db.session.commit()
    return World(
        users={
            "patient_a": patient_a,
            "patient_b": patient_b,
            "doctor_a": doctor_a.user,
            "doctor_b": doctor_b.user,
            "helper_with": helper_with,
            "helper_without": helper_without,
            "admin": admin,
        },
        args={
            "appointment_id": appointment.id,
            "slot_id": open_slot.id,
            "doctor_id": doctor_a.id,
            "clinic_id": clinic.id,
            "user_id": bystander.id,
            "specialty_id": 1,
            "payment_id": payment.id,
            "notification_id": notification.id,
            "review_id": review.id,
            "conversation_id": conversation.id,
            "message_id": message.id,
            "action": "approve",
        },
    )


def _url(app, rule, args: dict) -> str:
    values = {}
    for name in rule.arguments:
        if name in rule.defaults or {}:
            continue
        converter = rule._converters[name]
        if name in args:
            values[name] = args[name]
        elif isinstance(converter, NumberConverter):  # the API's IdConverter too
            values[name] = 1
        elif isinstance(converter, UUIDConverter):
            values[name] = "00000000-0000-0000-0000-000000000000"
        else:
            values[name] = "x"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{**(rule.defaults or {}), **values})


def _may_succeed(role: str, access_rule: str, arguments: set[str]) -> bool:
    """Whether `role` may get a 2xx on a route with this rule and these URL arguments."""
    if access_rule == "public":
        return True
    if role == "anonymous":
        return False
    kind, _, spec = access_rule.partition(":")
    user_role = ROLE_OF[role]
    if kind == "roles":
        allowed = {Role(r) for r in spec.split(",")}
        if user_role is not Role.ADMIN and user_role not in allowed:
            return False
    elif kind == "permission":
        return role in {"admin", "helper_with"}
    owned = [name for name in arguments if name in OWNERS]
    return not (role in STRANGERS and any(role not in OWNERS[name] for name in owned))


def test_no_caller_gets_a_2xx_they_should_not_nor_any_5xx(app, world):
    now = datetime.now(UTC)

    def token_for(role: str) -> str:
        # Issued afresh after any API write: a call such as "sign out everywhere" ends the
        # caller's earlier tokens, and the rest of the walk must still run as that caller.
        user = db.session.get(User, world.users[role].id)
        db.session.refresh(user)
        return issue_token(user, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=now)

    tokens = {role: token_for(role) for role in world.users}
    clients = {role: app.test_client() for role in ROLES}

    def sign_in(role: str) -> None:
        # A fresh server-side session after any POST: an earlier request (sign-out, say)
        # must not leave a caller anonymous for the rest of the walk. GETs change nothing.
        user = world.users[role]
        token = sessions.start_session(user.id, now=datetime.now(UTC), absolute_hours=1)
        with clients[role].session_transaction() as session:
            session.clear()
            session.update({"_user_id": str(user.id), "_fresh": True, "sid": token})

    for role in world.users:
        sign_in(role)
        assert world.users[role].name in clients[role].get("/").get_data(as_text=True), role

    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED_ENDPOINTS),
        key=lambda r: (r.rule.startswith("/admin"), r.rule),  # admin actions last
    )
    unexpected, server_errors, checked, successes = [], [], 0, {role: 0 for role in ROLES}
    stale: set[str] = set()
    stale_tokens: set[str] = set()
    for rule in rules:
        access_rule = app.view_functions[rule.endpoint].access_rule
        url = _url(app, rule, world.args)
        arguments = set(rule.arguments) - set(rule.defaults or {})
        api = url.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                headers = {}
                if role != "anonymous":
                    if api:
                        headers["Authorization"] = f"Bearer {tokens[role]}"
                        if method != "GET":
                            stale_tokens.add(role)
                    elif role in stale:
                        sign_in(role)
                        stale.discard(role)
                    if not api and method != "GET":
                        stale.add(role)
                kwargs = {"json": {}} if api and method != "GET" else {}
                if not api and method != "GET":
                    kwargs["data"] = {}
                response = clients[role].open(url, method=method, headers=headers, **kwargs)
                if role in stale_tokens:
                    tokens[role] = token_for(role)
                    stale_tokens.discard(role)
                checked += 1
                label = f"{method} {url} as {role} ({access_rule}): {response.status_code}"
                if 200 <= response.status_code < 300:
                    successes[role] += 1
                if response.status_code >= 500:
                    server_errors.append(label)
                elif 200 <= response.status_code < 300 and not _may_succeed(
                    role, access_rule, arguments
                ):
                    unexpected.append(label)

    assert server_errors == []
    assert unexpected == []
    assert checked > 300
    # The walk really ran signed in: every caller but the anonymous one got somewhere.
    assert all(successes[role] > successes["anonymous"] for role in world.users), successes
