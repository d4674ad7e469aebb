"""/admin/webhooks: who may open it, registering (private addresses refused), the delivery
log, replay, enable and disable, delete; each change audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Role, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from app.services import sealing
from app.services.errors import Forbidden
from app.services.webhooks import endpoints
from app.services.webhooks.addresses import UnsafeURL
from tests.factories import make_user
from tests.integration.admin.conftest import make_helper, sign_in
from tests.integration.webhooks.conftest import book, register, verify

St = WebhookDeliveryStatus
FORM_EVENTS = ["appointment.created", "appointment.cancelled"]


def audit_actions() -> list[str]:
    return list(
        db.session.scalars(
            select(AuditLog.action)
            .where(AuditLog.action.startswith("webhook."))
            .order_by(AuditLog.id)
        )
    )


@pytest.mark.parametrize(
    "path",
    ["/admin/webhooks", "/admin/webhooks/new", "/admin/webhooks/1", "/admin/webhooks/1/edit"],
)
def test_patients_and_helpers_without_the_permission_get_403(client, doctor, path):
    for user in (make_user(Role.PATIENT), make_helper("bookings.manage", "notifications.view")):
        sign_in(client, user)
        assert client.get(path).status_code == 403
        assert client.post("/admin/webhooks/deliveries/1/replay").status_code == 403
        client.post("/logout")


def test_services_refuse_someone_without_the_permission(doctor):
    helper = make_helper("bookings.manage")
    with pytest.raises(Forbidden):
        endpoints.register_endpoint(
            actor_id=helper.id,
            clinic_id=doctor.clinic_id,
            url="https://example.com/hook",
            events=["appointment.created"],
            now=datetime.now(UTC),
        )


def test_a_helper_with_integrations_manage_registers_an_endpoint(
    client, allow_private, receiver, doctor
):
    helper = make_helper("integrations.manage")
    sign_in(client, helper)
    assert "Webhooks" in client.get("/admin/webhooks").get_data(as_text=True)

    response = client.post(
        "/admin/webhooks/new",
        data={
            "clinic_id": str(doctor.clinic_id),
            "url": receiver.url,
            "description": "front desk CRM",
            "events": FORM_EVENTS,
        },
    )

    assert response.status_code == 302
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert (endpoint.clinic_id, endpoint.url, endpoint.events, endpoint.created_by_id) == (
        doctor.clinic_id,
        receiver.url,
        sorted(FORM_EVENTS),
        helper.id,
    )
    secret = sealing.unseal(endpoint.secret_sealed)
    assert secret.startswith("whsec_") and secret not in endpoint.secret_sealed
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert secret in page and "front desk CRM" in page
    assert audit_actions() == ["webhook.registered"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5300/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_private_addresses_are_refused_at_registration(client, owner, doctor, url):
    sign_in(client, owner)

    response = client.post(
        "/admin/webhooks/new",
        data={"clinic_id": str(doctor.clinic_id), "url": url, "events": FORM_EVENTS},
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "webhooks go to public addresses only" in page
    assert db.session.scalar(select(WebhookEndpoint)) is None
    assert audit_actions() == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "must begin with"),
        ("https://user:pw@example.com/hook", "Credentials do not belong"),
        ("https://no-such-host.invalid/hook", "could not be resolved"),
        ("not a url", "must begin with"),
        ("https://example.com:99999/", "not a valid URL"),
    ],
)
def test_malformed_urls_are_form_errors(client, owner, doctor, url, message):
    sign_in(client, owner)
    response = client.post(
        "/admin/webhooks/new",
        data={"clinic_id": str(doctor.clinic_id), "url": url, "events": FORM_EVENTS},
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_https_is_required_when_configured(app, owner, doctor, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_REQUIRE_HTTPS", True)
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", True)
    with pytest.raises(UnsafeURL, match="must begin with https://"):
        register(owner, doctor.clinic_id, "http://127.0.0.1:5300/hook")


def test_no_event_chosen_is_a_form_error(client, owner, doctor):
    sign_in(client, owner)
    response = client.post(
        "/admin/webhooks/new",
        data={"clinic_id": str(doctor.clinic_id), "url": "https://example.com/hook"},
    )
    assert response.status_code == 422
    assert "Choose at least one event." in response.get_data(as_text=True)


def test_the_log_shows_status_codes_and_a_delivery_can_be_replayed(
    client, allow_private, receiver, owner, doctor, patient
):
    endpoint_id, secret = register(owner, doctor.clinic_id, receiver.url, ["appointment.created"])
    receiver.answer(500, 200)
    book(patient, doctor)
    [original] = db.session.scalars(select(WebhookDelivery)).all()
    sign_in(client, owner)

    page = client.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
    assert "appointment.created" in page and "HTTP 500" in page and ">pending<" in page
    # A pending delivery is not replayed (it is still being tried).
    response = client.post(
        f"/admin/webhooks/deliveries/{original.id}/replay?endpoint={endpoint_id}",
        follow_redirects=True,
    )
    assert "is still being tried" in response.get_data(as_text=True)

    receiver.answer(200)
    original.status = St.DELIVERED  # as if the retry went through
    db.session.commit()
    response = client.post(
        f"/admin/webhooks/deliveries/{original.id}/replay?endpoint={endpoint_id}",
        follow_redirects=True,
    )

    assert f"Delivery {original.id} is sent again" in response.get_data(as_text=True)
    replay = db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.replay_of_id.is_not(None))
    )
    assert replay.status is St.DELIVERED and replay.response_code == 200
    first, second = receiver.requests
    assert verify(secret, second.headers, second.body)["id"] == original.event_id
    assert (
        second.headers["Carebook-Delivery"] == str(replay.id) != first.headers["Carebook-Delivery"]
    )
    assert "webhook.replayed" in audit_actions()


def test_disable_enable_and_delete(client, allow_private, receiver, owner, doctor, patient):
    endpoint_id, _ = register(owner, doctor.clinic_id, receiver.url, ["appointment.created"])
    sign_in(client, owner)

    client.post(f"/admin/webhooks/{endpoint_id}/disable")
    book(patient, doctor, days=3)
    assert receiver.requests == []

    client.post(f"/admin/webhooks/{endpoint_id}/enable")
    book(patient, doctor, days=4)
    assert len(receiver.requests) == 1

    response = client.post(
        f"/admin/webhooks/{endpoint_id}/edit",
        data={"url": receiver.url + "?v=2", "events": ["appointment.cancelled"], "description": ""},
    )
    assert response.status_code == 302
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert endpoint.url.endswith("?v=2") and endpoint.events == ["appointment.cancelled"]

    client.post(f"/admin/webhooks/{endpoint_id}/delete")
    assert db.session.get(WebhookEndpoint, endpoint_id) is None
    assert db.session.scalar(select(WebhookDelivery)) is None
    assert audit_actions() == [
        "webhook.registered",
        "webhook.disabled",
        "webhook.enabled",
        "webhook.updated",
        "webhook.deleted",
    ]
    assert client.get(f"/admin/webhooks/{endpoint_id}").status_code == 404
